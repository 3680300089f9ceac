"""The Genesys Cloud emulator: API + OAuth + notification streaming + fault injection.

One package per service, as moto lays them out: `auth`, `users`, `presence`, `wfm`, `triggers`,
`notifications` and `control` (the /_emulator/... surface), each with `models` (state and rules),
`responses` (handlers), `urls` (routes) and `exceptions` (typed ErrorBody errors). `core` holds
what they share, `backend` the runtime state, `app` the middleware, `server` the entry point
(`start_emulator`), `control_client` the client of the control surface; the static org is
`org` (`generate`, `orgfile`).
"""
