"""Notifications API: channels, subscriptions, and the WebSocket at each channel's connectUri."""
