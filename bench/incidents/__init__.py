"""Load benchmark of the incident lifecycle (issue 4): see RESULTS.md."""
