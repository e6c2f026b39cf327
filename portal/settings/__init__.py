"""Portal settings: loaded once at start-up from TOML plus PORTAL_* overrides, then frozen."""
from .engine import Problem, SettingsError, secret_paths
from .loader import load_settings
from .sections import ACTION_BUILTIN, Settings

__all__ = ["ACTION_BUILTIN", "Problem", "Settings", "SettingsError", "load_settings", "secret_paths"]
