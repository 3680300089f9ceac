"""The functional core: pure functions of (desired, observed, schedules, now).

Nothing here does I/O, reads a clock or imports the shell (`engine`, `genesys`, `emulator`,
the HTTP servers, the audit writer); `make lint` enforces it with import-linter
(`.importlinter`). Inputs are the desired model (`controller.model.types`) and the values in
`domain`; outputs are plans, decisions and boundaries that the shell carries out.

    presence    the presence vocabulary and its spellings
    domain      live-org values: agents, observed presence, schedules
    timeline/   desired presence of an agent at t, and when it changes
    selection   which policy manages which agent
    planner     plan(desired, observed, schedules, now) -> actions, skips, guard
    batches     how a plan's writes group into API calls
    simulate    a day of boundaries without the org
    timestamps  UTC timestamps in the API's form: iso() and parse_iso()
"""
