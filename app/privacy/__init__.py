"""Personal data: erasure that erases, retention, and keeping personal values out of logs."""
