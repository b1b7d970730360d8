var ok = 1;

var x = ;
