package session

// The tests load named zones (Europe/Paris, America/New_York); the embedded
// database makes them independent of the machine's /usr/share/zoneinfo.
import _ "time/tzdata"
