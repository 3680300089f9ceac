"""The reconcile engine's shell: the executor (writes, confirms, audits a Plan), and the loop and
commands that drive it. Import the submodules directly (`controller.engine.executor`)."""
