"""`python -m speechsynth.cli`: the `speechsynth` command."""

from speechsynth.cli import main

raise SystemExit(main())
