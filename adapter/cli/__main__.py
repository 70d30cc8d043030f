"""``python -m adapter.cli``: the same command as ``csins-adapter``."""

from adapter.cli import main

main()
