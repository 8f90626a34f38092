"""`python -m autokeras_nas.cli`."""

from autokeras_nas.cli import main

main(prog_name="autokeras-nas")
