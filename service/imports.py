"""The checks other parts add to a package import's report (``content_store.importer.ModelCheck``):
the content store stays ignorant of the player, the composition root hands it these."""
from __future__ import annotations

from player.sequencing import check as sequencing_check

# SCORM 2004 sequencing the engine cannot honour: warnings at import, not surprises for learners.
IMPORT_CHECKS = (sequencing_check,)
