"""Apps for the language tests: the shipped themes (copied, so a test may add override files)."""
from tests.branding_support import branding, build  # noqa: F401 - fixtures
