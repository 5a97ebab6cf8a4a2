module textclf.local/pause

go 1.22
