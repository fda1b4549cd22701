package classify

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestChannel covers every row of rule 5 and the cases where their order
// matters.
func TestChannel(t *testing.T) {
	c := newTestClassifier(t, testConfig())
	tests := []struct {
		name, uri, ref string
		want           string
	}{
		// 1 direct
		{"direct: nothing", "/", "", "direct"},
		{"direct: internal referrer", "/", "https://www.example.com/a", "direct"},

		// 2 cross_network
		{"cross-network", "/?utm_source=google&utm_medium=cpc&utm_campaign=pmax+Cross-Network", "", "cross_network"},
		{"cross-network beats paid shopping", "/?utm_source=amazon&utm_medium=cpc&utm_campaign=cross-network-shopping", "", "cross_network"},
		{"cross-network beats paid search", "/?utm_source=google&utm_medium=ppc&utm_campaign=x-cross-network", "", "cross_network"},

		// 3 paid_shopping
		{"paid shopping by site", "/?utm_source=amazon&utm_medium=cpc", "", "paid_shopping"},
		{"paid shopping by campaign", "/?utm_source=google&utm_medium=cpc&utm_campaign=shopping-q4", "", "paid_shopping"},
		{"paid shopping by campaign prefix", "/?utm_source=newsletter&utm_medium=paid&utm_campaign=shop_now", "", "paid_shopping"},
		{"paid shopping by shopping referrer", "/?utm_source=partner&utm_medium=cpc", "https://www.ebay.com/", "paid_shopping"},
		{"workshop is not a shopping campaign", "/?utm_source=google&utm_medium=cpc&utm_campaign=workshop", "", "paid_search"},
		{"eshop is a shopping campaign", "/?utm_source=google&utm_medium=cpc&utm_campaign=eshop", "", "paid_shopping"},

		// 4 paid_search
		{"gclid", "/?gclid=x", "https://www.google.com/", "paid_search"},
		{"msclkid", "/?msclkid=x", "", "paid_search"},
		{"google cpc", "/?utm_source=google&utm_medium=cpc&utm_campaign=brand", "https://www.google.com/", "paid_search"},
		{"bing ppc", "/?utm_source=bing&utm_medium=ppc&utm_campaign=generic", "", "paid_search"},
		{"search site by domain", "/?utm_source=www.google.de&utm_medium=cpc", "", "paid_search"},
		{"search by referrer host", "/?utm_source=adnet&utm_medium=retargeting", "https://www.bing.com/", "paid_search"},

		// 5 paid_social
		{"twitter paid", "/?utm_source=twitter&utm_medium=paid&utm_campaign=launch", "https://t.co/x", "paid_social"},
		{"linkedin cpc", "/?utm_source=linkedin&utm_medium=cpc&utm_campaign=b2b", "", "paid_social"},
		{"facebook paid_social", "/?utm_source=facebook&utm_medium=paid_social&utm_campaign=winter", "https://www.facebook.com/", "paid_social"},
		{"ig paid", "/?utm_source=ig&utm_medium=paid", "", "paid_social"},

		// 6 paid_video
		{"youtube cpc", "/?utm_source=youtube&utm_medium=cpc", "", "paid_video"},
		{"vimeo paid", "/?utm_source=vimeo&utm_medium=paid-video", "", "paid_video"},

		// 7 display
		{"display", "/?utm_source=dv360&utm_medium=display&utm_campaign=retarget", "", "display"},
		{"banner", "/?utm_source=adnet&utm_medium=banner&utm_campaign=q4", "", "display"},
		{"expandable", "/?utm_source=adnet&utm_medium=expandable", "", "display"},
		{"interstitial", "/?utm_source=adnet&utm_medium=interstitial", "", "display"},
		{"cpm", "/?utm_source=adnet&utm_medium=cpm", "", "display"},
		{"dclid is display", "/?dclid=CJ", "https://www.google.com/", "display"},
		{"cpm on a search site is paid search", "/?utm_source=google&utm_medium=cpm", "", "paid_search"},

		// 8 paid_other
		{"paid other cpc", "/?utm_source=newsletter&utm_medium=cpc", "", "paid_other"},
		{"paid other ppc", "/?utm_source=partner&utm_medium=ppc", "", "paid_other"},
		{"paid other retargeting", "/?utm_source=adnet&utm_medium=retargeting", "", "paid_other"},
		{"paid other paid_", "/?utm_source=adnet&utm_medium=paid_native", "", "paid_other"},
		{"paid other cp inside", "/?utm_source=adnet&utm_medium=xcpx", "", "paid_other"},

		// 9 organic_shopping
		{"shopping referrer", "/", "https://www.amazon.co.uk/", "organic_shopping"},
		{"shopping source", "/?utm_source=etsy&utm_medium=referral", "", "organic_shopping"},
		{"shopping campaign", "/?utm_source=newsletter&utm_medium=email&utm_campaign=Shopping-Days", "", "organic_shopping"},

		// 10 organic_social
		{"facebook referrer", "/", "https://m.facebook.com/", "organic_social"},
		{"instagram referrer", "/", "https://l.instagram.com/?u=x", "organic_social"},
		{"t.co referrer", "/", "https://t.co/abc", "organic_social"},
		{"linkedin referrer", "/", "https://www.linkedin.com/feed/", "organic_social"},
		{"reddit referrer", "/", "https://www.reddit.com/r/webdev/", "organic_social"},
		{"fbclid", "/?fbclid=x", "https://m.facebook.com/", "organic_social"},
		{"medium social", "/?utm_source=foo&utm_medium=social", "", "organic_social"},
		{"medium social-network", "/?utm_source=foo&utm_medium=social-network", "", "organic_social"},
		{"medium social-media", "/?utm_source=foo&utm_medium=social-media", "", "organic_social"},
		{"medium sm", "/?utm_source=foo&utm_medium=sm", "", "organic_social"},
		{"medium social network", "/?utm_source=foo&utm_medium=social+network", "", "organic_social"},
		{"medium social media", "/?utm_source=foo&utm_medium=Social%20Media", "", "organic_social"},

		// 11 organic_video
		{"youtube referrer", "/", "https://www.youtube.com/", "organic_video"},
		{"vimeo referrer", "/", "https://vimeo.com/123", "organic_video"},
		{"medium video", "/?utm_source=foo&utm_medium=video", "", "organic_video"},
		{"medium contains video", "/?utm_source=foo&utm_medium=tv-video-spot", "", "organic_video"},

		// 12 organic_search
		{"google referrer", "/", "https://www.google.com/", "organic_search"},
		{"google.co.uk referrer", "/", "https://www.google.co.uk/", "organic_search"},
		{"bing referrer", "/", "https://www.bing.com/search?q=x", "organic_search"},
		{"yahoo referrer", "/", "https://search.yahoo.com/", "organic_search"},
		{"duckduckgo referrer", "/", "https://duckduckgo.com/", "organic_search"},
		{"ecosia referrer", "/", "https://www.ecosia.org/", "organic_search"},
		{"yandex referrer", "/", "https://yandex.ru/", "organic_search"},
		{"medium organic", "/?utm_source=foo&utm_medium=organic", "", "organic_search"},
		{"google source no medium", "/?utm_source=google", "", "organic_search"},

		{"google news referrer", "/", "https://news.google.com/articles/x", "organic_search"},
		{"google in a country domain", "/", "https://www.google.com.br/", "organic_search"},
		{"yandex in a country domain", "/", "https://yandex.com.tr/search/", "organic_search"},
		{"kagi referrer", "/", "https://kagi.com/search?q=x", "organic_search"},
		{"brave search referrer", "/", "https://search.brave.com/search?q=x", "organic_search"},
		{"google search app", "/", "android-app://com.google.android.googlequicksearchbox/", "organic_search"},
		{"support.google.com is a referral", "/", "https://support.google.com/analytics/", "referral"},
		{"developers.google.com is a referral", "/", "https://developers.google.com/", "referral"},
		{"maps.google.com is a referral", "/", "https://maps.google.com/", "referral"},
		{"news.yahoo.com is a referral", "/", "https://news.yahoo.com/x", "referral"},

		// 13 ai_assistant
		{"chatgpt referrer", "/", "https://chatgpt.com/", "ai_assistant"},
		{"chatgpt utm_source", "/?utm_source=chatgpt.com", "", "ai_assistant"},
		{"chatgpt utm_source and referrer", "/?utm_source=chatgpt.com", "https://chatgpt.com/", "ai_assistant"},
		{"chat.openai.com referrer", "/", "https://chat.openai.com/c/1", "ai_assistant"},
		{"gemini is not google search", "/", "https://gemini.google.com/app", "ai_assistant"},
		{"copilot referrer", "/", "https://copilot.microsoft.com/", "ai_assistant"},
		{"claude referrer", "/", "https://claude.ai/chat/1", "ai_assistant"},
		{"perplexity referrer", "/", "https://www.perplexity.ai/search/x", "ai_assistant"},
		{"poe referrer", "/", "https://poe.com/", "ai_assistant"},
		{"you.com referrer", "/", "https://you.com/search?q=x", "ai_assistant"},
		{"grok referrer", "/", "https://grok.com/", "ai_assistant"},
		{"deepseek referrer", "/", "https://chat.deepseek.com/", "ai_assistant"},
		{"mistral referrer", "/", "https://chat.mistral.ai/chat", "ai_assistant"},
		{"meta ai referrer", "/", "https://www.meta.ai/", "ai_assistant"},
		{"medium ai-assistant", "/?utm_source=foo&utm_medium=ai-assistant", "", "ai_assistant"},
		{"ai source name", "/?utm_source=perplexity", "", "ai_assistant"},
		{"chatgpt app", "/", "android-app://com.openai.chatgpt/", "ai_assistant"},
		{"paid ai is paid other", "/?utm_source=chatgpt.com&utm_medium=cpc", "", "paid_other"},
		{"ai beats email", "/?utm_source=newsletter&utm_medium=email", "https://chatgpt.com/", "ai_assistant"},
		{"search beats ai", "/?utm_source=chatgpt.com&utm_medium=organic", "", "organic_search"},
		{"social beats ai", "/?utm_source=chatgpt.com", "https://www.reddit.com/", "organic_social"},
		{"openai.com is a referral", "/", "https://openai.com/blog", "referral"},

		// 14 email
		{"source email", "/?utm_source=email&utm_medium=crm&utm_campaign=reactivation", "", "email"},
		{"medium email", "/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", "", "email"},
		{"medium e-mail", "/?utm_source=x&utm_medium=e-mail", "", "email"},
		{"medium e_mail", "/?utm_source=x&utm_medium=e_mail", "", "email"},
		{"medium e mail", "/?utm_source=x&utm_medium=e+mail", "", "email"},
		{"source e-mail", "/?utm_source=E-Mail", "", "email"},
		{"webmail referrer gmail", "/", "https://mail.google.com/mail/u/0/", "email"},
		{"webmail referrer outlook", "/", "https://outlook.live.com/", "email"},
		{"webmail referrer yahoo", "/", "https://mail.yahoo.com/d/folders/1", "email"},
		{"webmail referrer with odd campaign", "/?utm_source=foo&utm_medium=bar", "https://outlook.office.com/", "email"},
		{"gmail app", "/", "android-app://com.google.android.gm/", "email"},
		{"webmail referrer proton", "/", "https://mail.proton.me/u/0/inbox", "email"},
		{"webmail referrer outlook office365", "/", "https://outlook.office365.com/mail/", "email"},

		// 15 affiliates
		{"affiliate", "/?utm_source=partner&utm_medium=affiliate&utm_campaign=deals", "https://partner-site.io/", "affiliates"},

		// 16 referral
		{"unknown referrer", "/", "https://some-blog.net/post", "referral"},
		{"medium referral", "/?utm_source=foo&utm_medium=referral", "", "referral"},
		{"medium app", "/?utm_source=foo&utm_medium=app", "", "referral"},
		{"medium link", "/?utm_source=foo&utm_medium=link", "", "referral"},
		{"unknown app", "/", "android-app://org.example.reader/", "referral"},

		// 17 audio
		{"audio", "/?utm_source=spotify&utm_medium=audio", "", "audio"},

		// 18 sms
		{"medium sms", "/?utm_source=twilio&utm_medium=sms", "", "sms"},
		{"source sms", "/?utm_source=SMS&utm_medium=text", "", "sms"},

		// 19 mobile_push
		{"medium push", "/?utm_source=app&utm_medium=web-push", "", "mobile_push"},
		{"medium mobile", "/?utm_source=app&utm_medium=mobile-banner", "", "mobile_push"},
		{"medium notification", "/?utm_source=app&utm_medium=notification", "", "mobile_push"},
		{"source firebase", "/?utm_source=firebase", "", "mobile_push"},

		// 20 unassigned
		{"unassigned", "/?utm_source=foo&utm_medium=bar", "", "unassigned"},
		{"campaign only", "/?utm_campaign=spring", "", "unassigned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Result
			c.Classify(req(withURI(tt.uri), withRef(tt.ref)), &got)
			if got.Kind != KindPageview {
				t.Fatalf("Kind = %v, want pageview", got.Kind)
			}
			if diff := cmp.Diff(tt.want, got.Channel.String()); diff != "" {
				t.Errorf("channel (-want +got):\n%s", diff)
			}
			if (got.Source == 0) != (got.Channel == Direct) {
				t.Errorf("Source = %#x with channel %v", got.Source, got.Channel)
			}
		})
	}
}

var (
	paidRE     = regexp.MustCompile(`^(.*cp.*|ppc|retargeting|paid.*)$`)
	shoppingRE = regexp.MustCompile(`^(.*(([^a-df-z]|^)shop|shopping).*)$`)
)

// TestPaidAndShoppingMatchRegexp checks the hand-written matchers against
// GA4's regular expressions; FuzzChannelPatterns does the same on fuzzed
// input.
func TestPaidAndShoppingMatchRegexp(t *testing.T) {
	for _, s := range []string{
		"", "cpc", "cpm", "ppc", "PPC", "retargeting", "retargeting2", "paid",
		"paid_social", "unpaid", "xcp", "c p", "organic", "email", "cp\n",
		"\ncp", "ppc\n", "paid\nx", "shop", "shopping", "workshop", "eshop",
		"e-shop", "4shop", "Shop", "myshop", "bigshopping", "sho\np", "shop\n",
		"\u00e9shop", "\xffshop", "xshopping", "shopify",
	} {
		if got, want := isPaidMedium([]byte(s)), paidRE.MatchString(s); got != want {
			t.Errorf("isPaidMedium(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isShoppingCampaign([]byte(s)), shoppingRE.MatchString(s); got != want {
			t.Errorf("isShoppingCampaign(%q) = %v, regexp says %v", s, got, want)
		}
	}
}

// TestChannelValues pins the numeric value of every channel: held events in
// saved state carry them as numbers, so renumbering one would restore a
// saved email session as another channel.
func TestChannelValues(t *testing.T) {
	want := []string{
		"direct", "cross_network", "paid_shopping", "paid_search", "paid_social",
		"paid_video", "display", "paid_other", "organic_shopping", "organic_social",
		"organic_video", "organic_search", "email", "affiliates", "referral",
		"audio", "sms", "mobile_push", "unassigned", "ai_assistant",
	}
	if NumChannels != len(want) {
		t.Fatalf("NumChannels = %d, want %d", NumChannels, len(want))
	}
	for v, name := range want {
		if got := Channel(v).String(); got != name {
			t.Errorf("Channel(%d) = %q, want %q", v, got, name)
		}
		if c, ok := ParseChannel(name); !ok || int(c) != v {
			t.Errorf("ParseChannel(%q) = %d, %v; want %d", name, c, ok, v)
		}
	}
	if AIAssistant != 19 {
		t.Errorf("AIAssistant = %d, want 19", AIAssistant)
	}
}

// TestChannelsInRuleOrder: Channels lists every channel once, in the order
// of docs/rules.md rule 5.
func TestChannelsInRuleOrder(t *testing.T) {
	rule5 := []string{
		"direct", "cross_network", "paid_shopping", "paid_search", "paid_social",
		"paid_video", "display", "paid_other", "organic_shopping", "organic_social",
		"organic_video", "organic_search", "ai_assistant", "email", "affiliates",
		"referral", "audio", "sms", "mobile_push", "unassigned",
	}
	var got []string
	for _, c := range Channels {
		got = append(got, c.String())
	}
	if diff := cmp.Diff(rule5, got); diff != "" {
		t.Errorf("Channels (-rule 5 +got):\n%s", diff)
	}
}
