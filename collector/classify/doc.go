// Package classify turns a parsed access-log request into what sessions need:
// its kind (pageview, redirect, bot or ignored), visitor key, source, channel,
// device and goals, following docs/rules.md rules 2 to 5 and 7.
//
// A Classifier is built once per configuration with New and does not
// allocate per request once its user-agent cache is warm. It is not safe for
// concurrent use; Clone gives each worker goroutine its own, sharing the
// immutable configuration and user-agent engine.
//
// Where the rules leave a choice open, the package decides as follows.
//
// Requests: only the method "GET" (exactly) counts. The path is the request
// target up to '?' or '#'; an absolute-form target ("http://host/p") loses
// its scheme and host. Asset extensions, exclude_paths and goals are matched
// against that path as logged (not percent-decoded). Asset and excluded paths
// are never redirects either. A redirect whose utm_* values all decode to
// nothing is ignored.
//
// Campaigns: parameter names are matched exactly (utm_source, not
// UTM_SOURCE). Of a repeated parameter the first occurrence with a
// non-empty value as written counts; a value that is empty, or decodes to
// white space only, makes the parameter absent. Values are percent- and '+'-decoded, lower-cased by Unicode
// rules and trimmed of ASCII white space. Of several click ids, gclid,
// gbraid, wbraid, dclid, msclkid, fbclid is the order of precedence.
//
// Source identity: each field falls back on its own. source is utm_source,
// else the click id's engine, else the referrer's site name; medium is
// utm_medium, else the click id's, else the referrer category's; so
// "?utm_campaign=spring" from google is (google, organic, spring). A
// referrer counts only with an http, https or android-app scheme; about:,
// file:, extension and scheme-less values are no referrer. The own hosts and
// the request host are compared without port, case and trailing dot;
// subdomains are not included.
//
// Channels: the site lists of rule 5 are matched against the source name and
// against the external referrer's host (or android-app package) whether or
// not the request is tagged, as the rule says; so utm_medium=cpc arriving
// from a Bing results page is paid_search. A source name that is a host
// ("facebook.com") is looked up like a referrer host. The lists are GA4's
// published source categories plus our own additions (data/, embedded);
// GA4's category wins where they disagree. A host matches a listed host when
// it is equal, differs by a leading www., m., l. or lm., or is a search,
// social, video or shopping site under another country domain ("com", a
// two-letter domain, or co.uk-style pairs) whose name is three letters or
// more; other subdomains match only when listed. Webmail and AI assistants
// match only as listed. A listed site is named by its brand when that is a
// source name of the same category (m.youtube.com is youtube), else by its
// listed host. AI assistant referrers get the medium "referral".
//
// Visitors: the secret is hashed with SHA-256 and the first 16 bytes key
// SipHash-2-4. The address is hashed in binary form after dropping port,
// IPv6 zone and IPv4-mapping; an address that does not parse is hashed as
// logged. X-Forwarded-For entries that are not addresses are skipped; when
// none is usable the remote address stands.
//
// Bots and devices: one Aho-Corasick automaton, built once per process,
// finds every bot and device token of an agent in a single pass over its
// bytes, ASCII case-insensitively and without allocating. Bot tokens come
// from data/ (our own list and those drawn from crawler-user-agents and
// isbot); a bot token inside the device model of an Android agent does not
// count ("CUBOT P30", a phone named "XBot"). Agents shaped like a program
// rather than a browser (a bare "name/version", an e-mail address, ...) are
// bots too. TVs, consoles, watches and headsets are checked before tablets,
// because their user agents often look like Android tablets or Windows PCs;
// then tablet models, phones (the "Mobile" token, phone models), and
// Android without "Mobile" is a tablet only when a browser says so (an
// app's own agent, Dalvik or okhttp, leaves "Mobile" out on phones too).
// User agents over 1 KiB are classified by their first 1 KiB.
package classify
