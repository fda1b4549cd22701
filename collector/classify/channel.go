package classify

import "bytes"

// identity is a source identity (docs/rules.md rule 4) plus what rule 5
// needs besides it. The byte slices point into the Classifier's scratch
// buffers or into static names.
type identity struct {
	source, medium, campaign []byte
	// nameCat is the list the source name is on; refCat the list the
	// external referrer's host (or android-app package) is on.
	nameCat, refCat category
	// referrer is true when the request has an external referrer.
	referrer bool
	// tagged is true when the source came from utm_* or a click id.
	tagged bool
}

// channelOf returns the GA4 default channel group of id, the rules of
// docs/rules.md rule 5 in their order, first match wins. The caller handles
// rule 1 (no source: Direct). It does not allocate.
func channelOf(id *identity) Channel {
	src, med, camp := id.source, id.medium, id.campaign
	on := func(c category) bool { return id.nameCat == c || id.refCat == c }
	paid := isPaidMedium(med)
	shopping := on(catShopping) || isShoppingCampaign(camp)

	switch {
	case bytes.Contains(camp, []byte("cross-network")):
		return CrossNetwork
	case shopping && paid:
		return PaidShopping
	case on(catSearch) && paid:
		return PaidSearch
	case on(catSocial) && paid:
		return PaidSocial
	case on(catVideo) && paid:
		return PaidVideo
	case oneOf(med, "display", "banner", "expandable", "interstitial", "cpm"):
		return Display
	case paid:
		return PaidOther
	case shopping:
		return OrganicShopping
	case on(catSocial) || oneOf(med, "social", "social-network", "social-media", "sm", "social network", "social media"):
		return OrganicSocial
	case on(catVideo) || bytes.Contains(med, []byte("video")):
		return OrganicVideo
	case on(catSearch) || string(med) == "organic":
		return OrganicSearch
	case on(catAI) || string(med) == "ai-assistant":
		return AIAssistant // paid AI traffic has returned above
	case oneOf(src, "email", "e-mail", "e_mail", "e mail") ||
		oneOf(med, "email", "e-mail", "e_mail", "e mail") || on(catWebmail):
		return Email
	case string(med) == "affiliate":
		return Affiliates
	case oneOf(med, "referral", "app", "link") ||
		(id.referrer && !id.tagged && id.refCat == catOther && id.nameCat == catOther):
		return Referral
	case string(med) == "audio":
		return Audio
	case string(src) == "sms" || string(med) == "sms":
		return SMS
	case bytes.HasSuffix(med, []byte("push")) || bytes.Contains(med, []byte("mobile")) ||
		bytes.Contains(med, []byte("notification")) || string(src) == "firebase":
		return MobilePush
	}
	return Unassigned
}

func oneOf(b []byte, names ...string) bool {
	for _, n := range names {
		if string(b) == n {
			return true
		}
	}
	return false
}

// isPaidMedium reports whether medium matches GA4's paid pattern
// ^(.*cp.*|ppc|retargeting|paid.*)$ exactly as the regexp would, including
// that "." does not match a newline.
func isPaidMedium(m []byte) bool {
	if string(m) == "ppc" || string(m) == "retargeting" {
		return true
	}
	if bytes.IndexByte(m, '\n') >= 0 {
		return false
	}
	return bytes.Contains(m, []byte("cp")) || bytes.HasPrefix(m, []byte("paid"))
}

// isShoppingCampaign reports whether campaign matches GA4's shopping pattern
// ^(.*(([^a-df-z]|^)shop|shopping).*)$ exactly as the regexp would: it
// contains "shopping", or "shop" at the start or after a character other
// than a-d and f-z; and the text matched by ".*" on either side has no
// newline (the character class itself may be one).
func isShoppingCampaign(c []byte) bool {
	firstNL, lastNL := bytes.IndexByte(c, '\n'), bytes.LastIndexByte(c, '\n')
	noNLBefore := func(k int) bool { return firstNL < 0 || firstNL >= k } // c[:k]
	noNLFrom := func(k int) bool { return lastNL < k }                    // c[k:]
	for i := 0; ; i++ {
		j := bytes.Index(c[i:], []byte("shop"))
		if j < 0 {
			return false
		}
		i += j
		if bytes.HasPrefix(c[i+4:], []byte("ping")) && noNLBefore(i) && noNLFrom(i+8) {
			return true
		}
		if !noNLFrom(i + 4) {
			continue
		}
		if i == 0 {
			return true
		}
		if p := c[i-1]; !(p >= 'a' && p <= 'd' || p >= 'f' && p <= 'z') && noNLBefore(i-1) {
			return true
		}
	}
}
