"""`python -m legato`: the same as the `legato` command."""

from legato.cli.main import main

if __name__ == "__main__":
    main()
