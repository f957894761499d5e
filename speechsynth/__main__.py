"""`python -m speechsynth` (also what `torchrun -m speechsynth` runs)."""

import sys

from speechsynth.cli import main

sys.exit(main())
