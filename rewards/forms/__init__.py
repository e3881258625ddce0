"""rewards' forms, split by area: the staff pages' and the member portal's."""
