#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Writes the seed corpora tests/fuzz/corpus/<target>/ again from the
# openspf suite and the hostile cases of tests/unit (see make_corpus.py).
# Needs python3 with python3-yaml. SPFKIT_SUITE overrides the suite path.
set -euo pipefail
cd "$(dirname "$0")"
python3 -c 'import yaml' 2>/dev/null || {
	echo "make-corpus.sh: needs python3-yaml (apt-get install python3-yaml)" >&2
	exit 1
}
exec python3 make_corpus.py "$@"
