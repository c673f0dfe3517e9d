# The two commands a newcomer needs:
#   make demo   - set up the machine, build, and run the main job end to end (printing what it does)
#   make test   - set up the machine, build, and run every test (unit and real-guest integration)

SWIFT ?= swift

.PHONY: setup build demo test clean

setup:
	sh scripts/setup.sh

build: setup
	$(SWIFT) build

demo: build
	sh scripts/demo.sh

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
