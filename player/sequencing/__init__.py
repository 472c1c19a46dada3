"""SCORM 2004 sequencing: the activity tree scorm-again's engine runs, built from the stored manifest."""
from .tree import check, global_to_system, objective_id, settings_for

__all__ = ["check", "global_to_system", "objective_id", "settings_for"]
