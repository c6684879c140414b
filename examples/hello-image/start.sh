#!/bin/sh
# Writes the index page, then serves it in the foreground (the container's main process).
mkdir -p /www /tmp
echo "hello from $(hostname) (instance ${GANTRY_INSTANCE:-unknown})" > /www/index.html
exec httpd -f -p 8080 -h /www
