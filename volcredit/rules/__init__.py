"""The legal rules as pure functions: every one takes the date it is asked about (``today=``)."""
