# The two commands a new user needs: `make run` and `make test`.
.PHONY: run test install install-test

install:
	bash scripts/install.sh

install-test:
	bash scripts/install.sh test
	bash scripts/install_test_browser.sh

run: install
	.venv/bin/retouch ui

test: install-test
	.venv/bin/python -m pytest -q
