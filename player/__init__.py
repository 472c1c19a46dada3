"""The player: registrations and attempts (storage/), then launch, the browser runtime and the xAPI bridge."""
