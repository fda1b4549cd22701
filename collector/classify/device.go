package classify

// The device rules of docs/rules.md rule 7: the device tokens and the Android
// model schemes, read together whenever a rule changes.

import "bytes"

// Device tokens (docs/rules.md rule 7). Each sets a feature bit; deviceOf
// decides from the bits. Tokens are lower-case and found by the same
// automaton pass as the bot tokens. A token's spelling says where it
// counts: see parseToken.
const (
	fBot          uint32 = 1 << iota
	fTV                  // TV, set-top box, TV stick
	fConsole             // game console
	fWatch               // watch
	fVR                  // VR headset
	fOtherDev            // car, camera, e-reader-less media devices
	fTablet              // "tablet", "ipad", Kindle, Silk, PlayBook
	fTabletModel         // a tablet model in the device model
	fPhoneModel          // a phone model in the device model
	fTVModel             // a TV box model in the device model
	fMobile              // "mobile", "mobi"
	fPhone               // iPhone, iPod, Windows Phone, BlackBerry, feature phones
	fAndroid             // Android and its forks
	fDesktop             // Windows, macOS, Linux, ChromeOS, BSD and other desktops
	fWindows             // Windows (a "Tablet PC" is still a Windows PC)
	fBrowserShape        // Safari/, Firefox/, Gecko/, Chrome/: a browser, not an app's own agent
	fDalvik              // Dalvik or okhttp: an app's own agent, phone or tablet unknown
	fNotBot              // a browser or app whose agent contains a bot token
	fHumanHint           // "browser": an agent that calls itself one is not judged by its shape
	fDesktopModel        // a laptop or desktop model, also in an Android agent (Chromebooks)
	fWebview             // an Android webview ("; wv)")
	fTVWeak              // a TV word that tablets share ("FHD", "LED", "DTV"): other unless a tablet model
	fNotTablet           // a phone whose model says "pad" (Coolpad, PadFone, Gionee GPad)
	fTabletWord          // "tablet" in the model: a tablet even of a laptop line ("ThinkPad Tablet")
)

// deviceTokens are the device words, by feature. A leading '^' anchors a
// token at the start of the agent, '|' at either end asks for a word
// boundary there (neither a letter nor a digit beside it), and a leading
// '=' or '~' limits it to the device model of an Android agent: '=' at the
// model's start, '~' at the start of any word of the model (after a space, '_', '-'
// or '/'), '*' anywhere in it.
var deviceTokens = []struct {
	feat uint32
	toks []string
}{
	{fTV, []string{
		"smart-tv", "smarttv", "smart tv", "smart_tv", "googletv", "google tv",
		"android tv", "androidtv", "hbbtv", "appletv", "apple tv", "crkey",
		"chromecast", "roku", "bravia", "web0s", "netcast", "viera", "vidaa",
		"philipstv", "nettv", "opera tv", "tv safari", "inettvbrowser",
		"|tv|", "|tv;", "tvos", "foxxum", "zeasn", "titanos", "kylo/", "boxee",
		"large screen", "sonydtv", "espial", "maple ", "fire tv", "firetv",
		"nexus player", "aftb", "aftm", "afts", "aftt", "aftk", "aftn",
		"aftr", "afta", "aftg", "aftd", "aftss", "dlna", "aquostv",
		"tcl smart", "tvsmart", "playready tv", "qtembedded", "mstar", "sonycebrowser",
		"=aft", "=mibox", "=mi box", "=mitv", "~mitv", "=x96", "=h96", "=t95", "=tx3", "=tx6",
		"=tx9", "=mxq", "=mx10", "=a95x", "=tox1", "=beelink", "=ugoos", "=hk1",
		"=tanix", "=mecool", "=sei", "=adt-", "=sti6", "=dv8", "~tv box", "~tvbox",
		"~box", "=ott", "=magicbox", "=ubox", "=x88", "=q+",
		// TV sets and boxes by model: LED/UHD panels, the "Shell" TV
		// platform, Android TV boxes and Yandex TV.
		"~shell", "=tv", "~ptv", "~hgtv",
		"~aquos-tv", "=m8s", "~t96", "~zidoo", "~neo-x", "~nexon", "~openbox",
		"~vorke", "~yundoo", "~formuler", "~iconbit", "~rkm", "~quad-core t", "~vontar",
		"~km9", "~pendoo", "~hty-", "~polar|", "~polarline", "~harper", "~ld-", "~as4k",
		"~as_4k", "~lem1", "~mlt", "~hiberg", "~onvo", "~neko", "~tle-", "~hx-",
		"~td4", "~td5", "~td6", "~ifp", "~stv-", "~dune", "brightsign", "dunehd",
		"ce-html", "netrange", "~kant-", "~netta|", "~telefunken", "~erisson", "~starwind",
		"4ktv", "~hismart", "|stb|", "~swtv", "family hub",
	}},
	// Words of TV models that tablet models use as well: the panel ("LED",
	// "FHD", "UHD"), a DVB or DTV tuner, Nvidia's Shield (a TV box and a
	// tablet), X98 (TV boxes, and Teclast's X98 Air). A tablet model wins
	// over them.
	{fTVWeak, []string{"*led", "*uhd", "*fhd", "*dvb", "|dtv", "=shield",
		"~x98"}}, // X98 TV boxes; Teclast's X98 Air tablets
	{fNotTablet, []string{"~coolpad", "yl-coolpad", "~padfone", "gionee_gpad", "gionee gpad"}},
	{fTabletWord, []string{"*tablet"}},
	{fConsole, []string{"xbox", "playstation", "nintendo", "|wii", "ouya", "|ps4|", "|ps5|",
		"~jxd"}}, // JXD's Android handhelds
	{fWatch, []string{"|watch|", "watchos", "watch os", "wear os", "wearos", "smartwatch",
		"sm-r", "~watch", "android wear", "~ticwatch", "~zenwatch", "~moto 360"}},
	{fVR, []string{"oculus", "=quest 2", "=quest 3", "=quest pro", "~pico|", "pico neo", "vr safari", "mobile vr", "mobilevr", "htc vive"}},
	{fOtherDev, []string{"qtcarbrowser", "tesla/", "carplay", "|nikon", "coolpix", "=ek-gc",
		"~fiio", "~retroid", "~nw-a", "~cowon", "~rg405", "~rg35", "~rg55"}},
	{fTablet, []string{"ipad", "|tablet", "kindle", "silk/", "silk-accelerated", "playbook",
		"touchpad", "xoom", "galaxy tab", "opera tablet", "pocketbook",
		"/apad"}}, // Yandex's apps on a tablet
	{fTabletModel, []string{
		// Samsung Galaxy Tab and Note tablets, Lenovo Tab, Amazon Fire.
		"~sm-t", "~sm-x", "~sm-p", "~gt-p", "~gt-n51", "~gt-n80", "~gt-n81", "~sch-i8",
		"~sc-01c", "~shw-m180", "~shw-m380", "~shw-m480", "~tb-", "~tb1", "~tb2", "~tb3",
		"~yt-", "~yt3", "=kf", "~kindle", "~lenovo tab", "~lenovo yoga tab", "~yoga tab",
		// Google, Asus, Acer, Sony, Microsoft, HP tablets.
		"~nexus 7", "~nexus 9", "~nexus 10", "~pixel c", "~pixel tablet", "~k00", "~k01",
		"~k010", "~k012", "~p00", "~p01", "~p02", "~transformer", "~me17", "~me30", "~me37",
		"~me10", "~me57", "~a1-", "~b1-", "~b3-", "~sgp", "~xperia tablet", "~sot",
		// "Pad" and "Tab" models; Huawei and Honor tablet codes are read
		// by huaweiTablet.
		"*pad", "*tab", "~ht-w", "~ks-", "~t1-", "~s8-", "~s7-", "~pgt-", "~wdy-",
		// Xiaomi, Oppo, Realme, OnePlus, Vivo, Nokia, Alcatel, TCL tablets.
		"~2106118c", "~21051182", "~22081283", "~23043rp34", "~2307brpdcc", "~23073rpbfg",
		"~24018rpacg", "~2405crpfdg", "~opd", "~rmp", "~pa2", "~pa3", "~ta-139", "~ta-14",
		"~8063", "~9008", "~9022", "~9024", "~9026", "~9027", "~9029", "~9032", "~9132",
		"~8082", "~8091", "~8094", "~t77", "~tcl tab", "~nxtpad",
		// Generic and lesser-known tablet brands.
		"~tablet", "~teclast", "~chuwi", "~onn ", "~onn.", "~100003", "~100005",
		"~surfpad", "~ideatab", "~vivotab", "~iconia", "~allwinner", "~rk3", "~mid",
		"~smart tab", "~tab ", "~lenovo tb", "~venue", "~nook", "~bntv", "~ct10",
		"~ct7", "~ct8", "~ct9", "~e-tab", "~polaroid", "~archos", "~hp slate", "~slate", "~sm-w",
		"~dragon touch", "~fire hd", "~kindle fire", "~kfa", "~vankyo", "~yestel",
		"~blackview tab", "~oscal pad", "~blu tab", "~iplay", "~lg-v4", "~lg-v5", "~lg-v7", "~lg-v9", "~lg-lk",
		"~tm-mid",
		// Tablet lines of regional brands: BQ's 7- and 10-inch models,
		// Digma Plane/Citi/Optima, Prestigio MultiPad, Irbis TZ, Explay
		// Surfer, Nabi and Kurio for children.
		"~bq-7", "~bq-1", "~plane ", "~citi ", "~optima ", "~pmt", "~pmp", "~tz7", "~tz8",
		"~tz9", "~surfer", "~nabi", "~kurio", "~scmr-",
		// Model numbers that open with the screen size: BQ's 8- and
		// 9-inch lines, Irbis TZ1xx, Tecno DroiPad P7xx/P9xx, Ginzzu GT,
		// Nomi C07/C08/C10, CCIT A, Mito T, Ritmix RMD, Allview's Speed,
		// City and AX tablets, Tesla's L7, TTL7 and Gravity, Lenovo's
		// Yoga Tablet B6000/B8000, IdeaTab S5000/S6000/A7600 and Tab V7
		// (PB-6505), Ainol Numy, Readboy and Navitel tablets, Digma Plane.
		"~bq-8", "~bq-9", "~bqru-7", "~bqru-8", "~bqru-9", "~bqru-1", "=tz1", "=plane_",
		"~tecno p7", "~tecno p9", "~ginzzu gt", "~ginzzu_gt", "=nomi_c", "=nomi c",
		"=ccit a", "=ccita", "=mito t", "=rmd", "=allview2speed", "=allview3speed",
		"=allview speed", "=allviewcity", "=allviewax", "~tesla l7", "~tesla ttl",
		"~tesla gravity", "~lenovo b6000", "~lenovo b8000", "~lenovo s5000",
		"~lenovo s6000", "~lenovo a7600", "~lenovo pb-6", "~numy", "~readboy", "~navitel",
		// Huawei and Honor tablet codes (MediaPad M6, T2, Honor Pad, MatePad),
		// Archos AN7/AN8/AN9/AN10, Oukitel OT, Tecno DroiPad DP, iBall Slide,
		// Polaroid PMID, Digma Citi, Acer One, Dell Streak, HTC Flyer.
		"~vrd-", "~bzk-", "~bzw-", "~got-", "~bgo-", "=an7", "=an8", "=an9", "=an10",
		"=an13", "=ot1", "=ot5", "=ot6", "=ot8", "~tecno dp", "~tecno_dp", "~iball slide",
		"~iball_slide", "=pmid", "=citi_", "~acer one", "~dell streak", "~htc flyer",
		// Huawei MediaPad M2, Alcatel OneTouch Pixi and 1T tablets, iRULU,
		// Ployer Momo9, Cat Nova and StarGate.
		"~m2-80", "~m2-a0", "~9003", "~9007", "~9013", "~9203", "~8084", "~irulu", "=momo9",
		"=cat nova", "=catnova", "=cat stargate",
		// A Wi-Fi-only model is a tablet: phones are not sold without a modem.
		"*wifi", "*wi-fi",
		// Words of tablet models: "TPC" (tablet PC), a quad-core chip named
		// in the model ("M7-3G Quad Core", "MT7_QC").
		"*tpc", "*quad core", "*quadcore", "*qc|",
		// Brand lines: Lexibook (MFC157FR), teXet's 7-, 8-, 9- and 10-inch
		// TM- models (its phones are TM-4xxx and TM-5xxx), Mediacom SmartPad
		// (M-MP8..., M-MP9..., M-MP1..., M-SP...; its phones are M-PP and
		// M-MP5), RCA Voyager and Pro (RCT6...), vivo's iQOO Pad (iPA2...),
		// Supra M, and the 7-inch lines named M7 ("M7-3G", "ML01-M7-SD",
		// "M7GO").
		"=mfc", "=tm-7", "=tm-8", "=tm-9", "=tm-1", "=m-mp8", "=m-mp9", "=m-mp1", "=m-sp",
		"=rct6", "=ipa2", "=supra m", "~m7-", "=m7go",
		// Nokia's T tablets (T10, T20, T21), Micromax's Canvas Tab P
		// series, i-mobile's i-note, Verykool's T and TL tablets, the Viva H
		// and Superion lines, BQ's Aquaris M8 and M10 tablets.
		"~nokia t1", "~nokia t2", "~micromax p", "=micromaxp", "~i-note", "~verykool t",
		"=verykoolt", "=viva_h", "=vivah", "~superion", "~aquaris m8", "~aquaris m10",
		// Chuwi's CW-V and Vi tablets, MegaFon's Login tablets, Alcatel's
		// One Touch T tablets, Teclast's X98 Air, NEC's LAVIE T tablets.
		"=cw-v", "=vi7", "=vi8", "=vi10", "~megafon login", "~one touch t", "~x98 air",
		"~lavie t",
		// Onyx BOOX e-ink tablets, by their board names (Darwin, Faust,
		// Gama, Cristo, Livingstone, Volta, Poke, Note Air, Leaf), with
		// or without the "MC_" of their older firmware; X-TIGI's Joy and
		// Hope tablets.
		"=darwin", "=faust", "=gama", "=cristo", "=livingstone", "=volta", "=poke",
		"=noteair", "=leaf", "=mc_darwin", "=mc_faust", "=mc_gama", "=mc_cristo",
		"=x-tigi_joy", "=x_tigi_joy", "=hope7", "=hope8", "=hope10",
		// Zync's tablets, the Element 7 tablets, and the TEL- and NQT-
		// lines whose codes give the screen size ("TEL-1014GIQ", "NQT-73GIQ").
		"~zync", "=element 7", "=element7", "=tel-7", "=tel-10", "=nqt-",
	}},
	{fPhoneModel, []string{
		"~sm-g", "~sm-a", "~sm-s", "~sm-n", "~sm-j", "~sm-m", "~sm-e", "~sm-f", "~sm-c",
		"~gt-i", "~gt-s", "~gt-n7", "~gt-b", "~gt-c", "~gt-e", "~sgh-", "~sch-", "~shv-",
		"~pixel", "~nexus 4", "~nexus 5", "~nexus 6", "~nexus s", "~nexus one",
		"~galaxy nexus", "~redmi", "~mi ", "~poco", "~moto", "~nokia", "~oneplus",
		"~cph", "~rmx", "~vivo", "~infinix", "~tecno", "~itel", "~lg-", "~lm-", "~htc",
		"~xt1", "~xt2", "~lumia", "~zte", "~huawei", "~honor", "~xperia", "~so-",
		"~sov", "~sh-", "~asus_", "~zenfone", "~iphone", "~f-0", "~f-4", "~f-5", "~sc-", "~scv", "~kyv",
		"~cubot", "~doogee", "~umidigi", "~ulefone", "~oukitel", "~blackview", "~meizu",
		"~leeco", "~letv", "~coolpad", "~gionee", "~lava", "~micromax", "~wiko",
		"~alcatel", "~5033", "~5024", "~5028", "~6039", "~blu ", "~qumo", "~fairphone",
		"~nothing", "~ta-", "~sm-", "~ale-", "~ane-", "~clt-", "~cor-",
		"~ela-", "~eml-", "~evr-", "~hma-", "~jkm-", "~jny-", "~lya-", "~mar-", "~pot-",
		"~stk-", "~vog-", "~vtr-", "~was-", "~lld-", "~nam-", "~noh-", "~tas-", "~els-",
		"~yal-", "~jsn-", "~dub-", "~fig-", "~mya-", "~amn-", "~atu-", "~lon-", "~bln-",
		"~rne-", "~vky-", "~mha-", "~frd-", "~knt-", "~bnd-", "~trt-", "~pra-", "~dra-",
		"~ine-", "~ldn-", "~aum-", "~bkl-", "~col-", "~pct-", "~rvl-", "~cdy-",
	}},
	{fDesktopModel, []string{
		"chromebook", "pixelbook", "~inspiron", "~latitude", "~vostro", "~aspire", "~travelmate",
		"~elitebook", "~probook", "~satellite", "~lifebook", "~thinkpad", "~thinkcentre",
		"~ideacentre", "~optiplex", "~pavilion", "~compaq", "~easynote", "~macbook",
		"~nuc", "~waydroid", "~aio", "~engage one", "~swift sf", "~remix mini", "~2in1",
		"(pc;", "|win10", "|win7", "|win8", "cygwin", "openvms", "~bilimbook",
	}},
	{fMobile, []string{"mobile", "mobi|", "|phone", "fennec", "minimo"}},
	{fPhone, []string{"iphone", "ipod", "opera mini", "blackberry", "bb10", "windows phone",
		"windows ce", "iemobile", "kaios", "symbian", "symbos", "series60", "series 60",
		"|s60", "j2me", "midp", "palmos", "palmsource", "|webos", "hpwos", "sonyericsson",
		"samsung-", "|sgh-", "|lg-", "mot-", "up.browser", "up.link", "obigo", "netfront",
		"teleca", "maemo", "meego", "sailfish", "ubuntu touch", "tizen", "bada", "brew",
		"nokia", "ucweb", "juc (", "|adr ", "cldc", "openwave", "polaris ", "polaris/", "dolfin",
		"firefox os", "harmonyos", "sonim", "kai-os", "|mtk|", "spreadtrum", "docomo", "|wap",
	}},
	{fAndroid, []string{"android", "|adr ", "dalvik", "linux; u;"}},
	{fDesktop, []string{"windows nt", "windows 9", "windows xp", "windows 2000", "windows me",
		"win32", "win64", "win98", "win95", "winnt", "windows 3", "macintosh", "mac os x",
		"mac_powerpc", "mac os", "macos", "x11", "cros", "linux", "freebsd", "openbsd",
		"netbsd", "dragonfly", "sunos", "solaris", "haiku", "beos", "os/2", "amiga",
		"morphos", "ubuntu", "fedora", "debian", "mint", "unix", "irix", "hp-ux",
		"aix", "risc os", "qnx", "syllable", "skyos", "windows", "darwin",
	}},
	{fWindows, []string{"windows", "win32", "win64", "win98", "win95", "winnt"}},
	{fBrowserShape, []string{"safari/", "firefox/", "gecko/", "chrome/", "presto/", "opera/",
		"applewebkit/"}},
	{fDalvik, []string{"dalvik/", "okhttp"}},
	{fWebview, []string{"; wv)", "; wv;"}},
	{fHumanHint, []string{"browser", "smarttv"}},
}

// modelSpan returns the device model of an Android agent, as offsets into
// lower: the part of its parenthesised comment before " build/", or else
// the last part after the Android version that is not a locale or a flag
// ("u", "wv", "mobile", "tablet", "rv:..."). ok is false when there is
// none.
func modelSpan(lower []byte) (start, modelEnd int, ok bool) {
	// "... Build/": the model is the text before it, back to ';' or to the
	// '(' that opens the comment. A '(' right after a letter or digit is
	// the model's own ("X80 Power(B2N4) Build/").
	if b := indexBytes(lower, " build/"); b > 0 {
		s := b
		for s > 0 && lower[s-1] != ';' && (lower[s-1] != '(' || s >= 2 && isAlnum(lower[s-2])) {
			s--
		}
		return trimSpan(lower, s, b)
	}
	a := indexBytes(lower, "android")
	if a < 0 {
		a = indexBytes(lower, "adr ")
	}
	if a < 0 {
		return 0, 0, false
	}
	// The comment around "android": up to ')'.
	end := a
	for end < len(lower) && lower[end] != ')' {
		end++
	}
	// Walk the ';'-separated parts after the android part; the last that
	// looks like a model wins.
	i := a
	for i < end && lower[i] != ';' {
		i++
	}
	for i < end {
		i++ // skip ';'
		j := i
		for j < end && lower[j] != ';' {
			j++
		}
		if s, e, ok2 := trimSpan(lower, i, j); ok2 && looksLikeModel(lower[s:e]) {
			start, modelEnd, ok = s, e, true
		}
		i = j
	}
	if !ok {
		return 0, 0, false
	}
	return start, modelEnd, true
}

// trimSpan trims spaces from lower[s:e]; ok is false for an empty span.
func trimSpan(lower []byte, s, e int) (int, int, bool) {
	for s < e && lower[s] == ' ' {
		s++
	}
	for e > s && lower[e-1] == ' ' {
		e--
	}
	return s, e, e > s
}

// looksLikeModel reports whether one part of an Android agent's comment
// can be the device model: not a locale ("en-us", "zh_cn", "de"), not a
// flag ("u", "wv", "mobile", "tablet", "k" of a reduced agent stays) and
// not a browser or OS word.
func looksLikeModel(p []byte) bool {
	switch string(p) {
	case "u", "i", "n", "wv", "mobile", "tablet", "linux", "harmonyos", "arm", "arm64", "arm_64",
		"x86", "x86_64", "aarch64", "armv7l", "armv8l", "compatible", "mobile vr":
		return false
	}
	if len(p) >= 3 && p[0] == 'r' && p[1] == 'v' && p[2] == ':' {
		return false
	}
	if isLocale(p) {
		return false
	}
	if len(p) >= 7 && (string(p[:7]) == "hmscore" || string(p[:7]) == "gmscore") {
		return false
	}
	if indexBytes(p, "android") >= 0 || indexBytes(p, "opera") >= 0 {
		return false
	}
	return true
}

// isLocale reports a language tag: two letters, then letter groups after
// '-' or '_' ("de", "en-us", "zh_cn", "zh-hans-cn").
func isLocale(p []byte) bool {
	if len(p) < 2 || !isLetter(p[0]) || !isLetter(p[1]) || len(p) > 2 && p[2] != '-' && p[2] != '_' {
		return false
	}
	for _, c := range p {
		if !isLetter(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// tvModel reports a model named the way TV sets are: the screen size in
// inches (two digits, 19 to 98), then letters ("43UP50GU", "32H600GU",
// "50LU1222"). Phone model numbers begin with a letter or with more digits.
func tvModel(model []byte) bool {
	if len(model) < 4 || !isDigit(model[0]) || !isDigit(model[1]) || !isLetter(model[2]) {
		return false
	}
	in := int(model[0]-'0')*10 + int(model[1]-'0')
	return in >= 19 && in <= 98
}

// wifiOnlyModel reports a Huawei or Honor model code with the "-W" suffix
// of their Wi-Fi-only devices ("BTV-W09", "MRR-W39", "AGS3-W09HN"): those
// are tablets, as no phone comes without a modem.
func wifiOnlyModel(model []byte) bool {
	i := 0
	for i < len(model) && isLetter(model[i]) {
		i++
	}
	if i < 3 || i > 4 {
		return false
	}
	if i < len(model) && isDigit(model[i]) {
		i++
	}
	return len(model) >= i+4 && model[i] == '-' && model[i+1] == 'w' && isDigit(model[i+2]) && isDigit(model[i+3])
}

// sizeCodeModel reports the model code of white-label Android tablets:
// two letters, the screen size as two digits (07, 08, 09 inches, or 97 for
// 9.7), two more digits and a letter ("RC0710B", "QS0716D", "MT0812E",
// "BC9710AM"). Rugged phones named BV9700 are the exception.
func sizeCodeModel(model []byte) bool {
	if len(model) < 7 || !isLetter(model[0]) || !isLetter(model[1]) || !allBytes(model[2:6], isDigit) || !isLetter(model[6]) {
		return false
	}
	if model[0] == 'b' && model[1] == 'v' {
		return false
	}
	switch string(model[2:4]) {
	case "07", "08", "09", "97":
		return true
	}
	return false
}

// huaweiBases are the three-letter bases of Huawei's and Honor's tablet
// model codes (MediaPad, MatePad, Honor Pad): "AGS3-W09", "BAH4-L09",
// "KOB2K-L09", "DBY2-W00". Their phones use other bases (ELE-L29, JNY-LX1).
var huaweiBases = map[string]bool{
	"agm": true, "agr": true, "ags": true, "aln": true, "bah": true, "bg2": true, "bgo": true,
	"brt": true, "btk": true, "btv": true, "bve": true, "bza": true, "bzc": true, "bzd": true,
	"bzi": true, "bzk": true, "bzt": true, "bzw": true, "cmr": true, "cpn": true, "dbr": true,
	"dby": true, "eln": true, "fdr": true, "gdi": true, "gem": true, "got": true, "hdl": true,
	"hdn": true, "hey": true, "hlv": true, "hmw": true, "jdn": true, "kob": true, "krj": true,
	"mon": true, "mrr": true, "mrx": true, "ndl": true, "pce": true, "ple": true, "rod": true,
	"rol": true, "scm": true, "sht": true, "syx": true, "szj": true, "tgr": true, "vrd": true,
	"wgr": true,
}

// huaweiTablet reports a Huawei or Honor tablet model code: one of
// huaweiBases, then at most two letters or digits of generation and
// variant ("AGS3K", "BZT3", "WGRR", "KOBE3"), then '-', at most two letters
// and two digits ("-W09", "-AL00", "-L09", "-701L").
func huaweiTablet(model []byte) bool {
	if len(model) < 7 || !isLetter(model[0]) || !isLetter(model[1]) || !isAlnum(model[2]) {
		return false
	}
	if !huaweiBases[string(model[:3])] { // a constant-size key: no allocation
		return false
	}
	i := 3
	for i < len(model) && i < 5 && isAlnum(model[i]) {
		i++
	}
	if i >= len(model) || model[i] != '-' {
		return false
	}
	i++
	j := i
	for j < len(model) && j-i < 2 && isLetter(model[j]) {
		j++
	}
	return j+2 <= len(model) && isDigit(model[j]) && isDigit(model[j+1])
}

// sizeThen3G reports a model that names its screen size and then its
// modem, the way white-label and regional tablets do: a word with the
// size, 7, 8, 9 or 10 inches, glued to its end, then "3G" ("Fast7 3G",
// "M7_3G_PLUS", "M10_3G"). A line's number standing alone is not a size
// ("STK Life 7 3G" is a phone); a few phones are named this way all the
// same ("Star7 3G").
func sizeThen3G(model []byte) bool {
	for i := bytes.Index(model, []byte("3g")); i >= 0; {
		if i+2 == len(model) || !isAlnum(model[i+2]) {
			j := i
			if j > 0 && (model[j-1] == ' ' || model[j-1] == '_' || model[j-1] == '-') {
				j--
			}
			k := j
			for k > 0 && isDigit(model[k-1]) {
				k--
			}
			size := model[k:j]
			if (string(size) == "7" || string(size) == "8" || string(size) == "9" || string(size) == "10") &&
				k > 0 && isLetter(model[k-1]) {
				return true
			}
		}
		n := bytes.Index(model[i+2:], []byte("3g"))
		if n < 0 {
			break
		}
		i += 2 + n
	}
	return false
}

// hardwareCodeModel reports Teclast's way of naming a tablet: a letter
// and two digits, perhaps a word ("HD", "SE", " Power"), then the board's
// code of four letters and digits in parentheses ("M40(N9H1)",
// "P20HD(N6H7)", "X80 Power(B2N4)"). The closing parenthesis may have
// ended the model already.
func hardwareCodeModel(model []byte) bool {
	if len(model) < 8 || !isLetter(model[0]) || !isDigit(model[1]) || !isDigit(model[2]) {
		return false
	}
	p := bytes.IndexByte(model, '(')
	if p < 3 || p+5 > len(model) || !allBytes(model[3:p], func(c byte) bool { return isLetter(c) || c == ' ' }) {
		return false
	}
	code := model[p+1 : p+5]
	letters, digits := 0, 0
	for _, c := range code {
		switch {
		case isLetter(c):
			letters++
		case isDigit(c):
			digits++
		}
	}
	return letters > 0 && digits > 0 && letters+digits == 4 && (p+5 == len(model) || model[p+5] == ')')
}

// rowModel reports a model code ending in "_ROW", the rest-of-world
// variant of Teclast's and other Chinese brands' tablets ("P80_ROW", "T40
// PRO_ROW"). Lenovo names its phones so too ("Lenovo P780_ROW"); its
// tablets are found by their TB- codes.
func rowModel(model []byte) bool {
	return len(model) > 4 && bytes.HasSuffix(model, []byte("_row")) && !bytes.HasPrefix(model, []byte("lenovo"))
}

// tabletCode reports model codes that name a tablet by their scheme:
// Xiaomi's, whose letters after the year and month are "RP" on Redmi Pads
// ("23073RPBFL", "24018RPACG"); Walmart onn's nine-digit item numbers
// ("100026191"); and Digma's product codes, in a word of the model: the
// line's letter and "S", four digits, two letters ending in G or L
// ("Citi_7586_3G_TS7203MG", "Platina 1579M 4G NS1800ML").
func tabletCode(model []byte) bool {
	if len(model) >= 7 && allBytes(model[:4], isDigit) {
		if model[5] == 'r' && model[6] == 'p' || len(model) >= 8 && model[6] == 'r' && model[7] == 'p' {
			return true
		}
	}
	if len(model) >= 9 && string(model[:4]) == "1000" && allBytes(model[4:9], isDigit) &&
		(len(model) == 9 || !isAlnum(model[9])) {
		return true
	}
	for i := 0; i+8 <= len(model); i++ {
		if i > 0 && model[i-1] != ' ' && model[i-1] != '_' {
			continue
		}
		w := model[i : i+8]
		switch w[0] {
		case 'c', 'n', 'p', 's', 't':
		default:
			continue
		}
		if w[1] == 's' && allBytes(w[2:6], isDigit) && isLetter(w[6]) && (w[7] == 'g' || w[7] == 'l') &&
			(i+8 == len(model) || !isAlnum(model[i+8])) {
			return true
		}
	}
	return false
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' }

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 'A' && b <= 'Z'
}

// indexBytes is bytes.Index for a string needle.
func indexBytes(s []byte, sub string) int {
	return bytes.Index(s, []byte(sub)) // a constant needle is not copied to the heap
}

// deviceOf applies docs/rules.md rule 7 to the features of an agent: TVs,
// consoles, watches, headsets and other devices first (their agents often
// look like Android tablets or Windows PCs), then tablets, phones and
// desktops; anything else is other.
func deviceOf(f uint32) Device {
	switch {
	case f&(fTV|fTVModel|fConsole|fWatch|fVR|fOtherDev) != 0:
		return OtherDevice
	case f&fTVWeak != 0 && (f&fTabletModel == 0 || f&fNotTablet != 0):
		return OtherDevice
	case f&fDesktopModel != 0 && f&fTabletWord == 0:
		return Desktop
	case f&(fTabletModel|fTabletWord) != 0 && f&fNotTablet == 0,
		f&fTablet != 0 && f&fWindows == 0:
		return Tablet
	case f&(fMobile|fPhone) != 0:
		return Mobile
	case f&fPhoneModel != 0 && (f&fBrowserShape == 0 || f&(fDalvik|fWebview) != 0):
		// A phone model decides only for an app's own agent or a webview;
		// a browser without "Mobile" is asking for tablet pages.
		return Mobile
	case f&fAndroid != 0:
		// Android without "Mobile": a tablet when a browser says so; an
		// app's own agent (Dalvik, okhttp, a webview without the browser
		// part) leaves "Mobile" out on phones too.
		if f&fBrowserShape != 0 && f&fDalvik == 0 {
			return Tablet
		}
		return Mobile
	case f&fDesktop != 0:
		return Desktop
	}
	return OtherDevice
}
