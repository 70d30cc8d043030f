"""Configuration: one typed settings object, built once from YAML files and the environment.

Nothing outside this package reads ``os.environ``. See :mod:`config.settings`.
"""

from config.settings import Policy, Settings, load_settings

__all__ = ["Policy", "Settings", "load_settings"]
