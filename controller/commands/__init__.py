"""The CLI's commands (`presencectl validate|plan|apply|run|simulate|adherence|audit|demo`): thin
handlers that parse nothing themselves (argparse stays in `controller.cli`), open what they need
from the shell, call the core and print."""
