"""RQ job functions taking ids (deliver, sweep, check deadlines); see DESIGN.md §2."""
