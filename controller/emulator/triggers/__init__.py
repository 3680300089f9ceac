"""Process Automation triggers: CRUD at /api/v2/processautomation/triggers
(docs/genesys-api.md#process-automation-triggers)."""
