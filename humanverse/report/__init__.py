"""`humanverse inspect`: a self-contained HTML report of a run, to audit what the filters kept and dropped."""
