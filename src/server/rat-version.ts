// Our own release number (the wire `version` reports memcached's, see cache-server.ts).
export const RAT_VERSION = '0.1.0';
