"""Generated documentation (the study key reference and JSON schema); never imported by a run."""
