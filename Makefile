# The two commands a newcomer needs:
#   make demo   - set up the machine, build, and run the main job end to end (printing what it does)
#   make test   - set up the machine, build, and run every test (unit and real-guest integration)

SWIFT ?= swift

.PHONY: setup build demo lint test clean

setup:
	sh scripts/setup.sh

build: setup
	$(SWIFT) build

demo: build
	sh scripts/demo.sh

# The toolchain's formatter, configured by .swift-format; `swift format format -i -r Sources Tests` fixes most of it.
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

test: setup lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
