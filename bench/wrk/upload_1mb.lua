-- POST /upload with a 1 MiB body; the server answers {"size":1048576}.
wrk.method = "POST"
wrk.body = string.rep("x", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
