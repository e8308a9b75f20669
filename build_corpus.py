"""Build the corpus site: `python build_corpus.py --help`. The work is in corpus_site/."""

import sys

from corpus_site.cli import main

if __name__ == "__main__":
    sys.exit(main())
