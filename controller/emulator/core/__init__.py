"""What every emulator service shares (moto's `core`): the emulator clock and timestamps, the
typed API errors and their one ErrorBody rendering, request helpers, and the request log."""
