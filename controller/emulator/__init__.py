"""The Genesys Cloud emulator: API + OAuth + notification streaming + fault injection."""
