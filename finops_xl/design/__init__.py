"""Architecture reviews with a cost lens: the price book from the bill (:mod:`.prices`), design
models of alternatives (:mod:`.model`) and their pricing over months, NPV, break-even and
sensitivity (:mod:`.evaluate`)."""
