package classify

// Channel is a GA4 default channel group (docs/rules.md rule 5).
// Channel(0) is Direct.
//
// The values are saved (held events in the state file carry them as
// numbers), so a channel keeps its value forever: a new one is appended at
// the end, and Channels, not the values, gives the order to show them in.
type Channel uint8

// Channels, valued in the order they were added: the first nineteen in the
// order of rule 5, then AIAssistant.
const (
	Direct Channel = iota
	CrossNetwork
	PaidShopping
	PaidSearch
	PaidSocial
	PaidVideo
	Display
	PaidOther
	OrganicShopping
	OrganicSocial
	OrganicVideo
	OrganicSearch
	Email
	Affiliates
	Referral
	Audio
	SMS
	MobilePush
	Unassigned
	AIAssistant
	NumChannels int = iota
)

// Channels lists every channel in the order of docs/rules.md rule 5, the
// order reports and tables show them in.
var Channels = [NumChannels]Channel{
	Direct, CrossNetwork, PaidShopping, PaidSearch, PaidSocial, PaidVideo,
	Display, PaidOther, OrganicShopping, OrganicSocial, OrganicVideo,
	OrganicSearch, AIAssistant, Email, Affiliates, Referral, Audio, SMS,
	MobilePush, Unassigned,
}

var channelNames = [NumChannels]string{
	"direct", "cross_network", "paid_shopping", "paid_search", "paid_social",
	"paid_video", "display", "paid_other", "organic_shopping", "organic_social",
	"organic_video", "organic_search", "email", "affiliates", "referral",
	"audio", "sms", "mobile_push", "unassigned", "ai_assistant",
}

// String returns the channel's label value, e.g. "organic_search".
func (c Channel) String() string {
	if int(c) < NumChannels {
		return channelNames[c]
	}
	return "unassigned"
}

// ParseChannel returns the channel named s.
func ParseChannel(s string) (Channel, bool) {
	for i, n := range channelNames {
		if n == s {
			return Channel(i), true
		}
	}
	return 0, false
}

// Device is the device class of a user agent (docs/rules.md rule 7).
type Device uint8

// Device classes.
const (
	Desktop Device = iota
	Mobile
	Tablet
	OtherDevice
	NumDevices int = iota
)

var deviceNames = [NumDevices]string{"desktop", "mobile", "tablet", "other"}

// String returns the device's label value.
func (d Device) String() string {
	if int(d) < NumDevices {
		return deviceNames[d]
	}
	return "other"
}

// ParseDevice returns the device named s.
func ParseDevice(s string) (Device, bool) {
	for i, n := range deviceNames {
		if n == s {
			return Device(i), true
		}
	}
	return 0, false
}

// Kind says what a request means for sessions (docs/rules.md rule 2 and 4).
type Kind uint8

// Request kinds.
const (
	KindIgnored  Kind = iota // asset, other method, error status, excluded path
	KindBot                  // bot request: counted, never sessionized
	KindPageview             // a human pageview
	KindRedirect             // a human GET answered 3xx (not 304) with a campaign or click id: may carry its source
)

// Result is the classification of one request. It holds no raw address,
// user agent or URL: only hashes and enum values.
type Result struct {
	Kind    Kind
	Visitor uint64 // keyed hash of client address + user agent (+ host when sites are split)
	Device  Device
	// Source is a hash of the source identity (source, medium, campaign);
	// 0 means no source (direct or internal referrer).
	Source uint64
	// Channel is the channel of Source (Direct when Source is 0).
	Channel Channel
	// Tagged is true when the source came from utm_* parameters or a click id
	// (as opposed to a referrer); used by redirect carry-over.
	Tagged bool
	// Goals has bit i set when the path matches goal i of the config.
	Goals uint64
	// ValueGoals has bit i set when goal i names a value parameter and the
	// query holds a valid value for it: Value, in millionths.
	ValueGoals uint64
	Value      int64
	// ValueBad counts malformed or negative values of that parameter that
	// were skipped.
	ValueBad uint8
	// Landing is 1 + the index of the first landing group matching the
	// path of a pageview, 0 when none does.
	Landing uint8
}
