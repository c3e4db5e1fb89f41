import sys

from relivchats.cli.main import main

sys.exit(main())
