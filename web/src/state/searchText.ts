// Message search as the server folds it (renkei-core message_search): the query in hiragana,
// katakana, and, typed in romaji, as kana. Used to highlight what matched in a result.

const SYLLABLES: [string, string][] = (
  "kya:きゃ kyu:きゅ kyo:きょ gya:ぎゃ gyu:ぎゅ gyo:ぎょ sha:しゃ shu:しゅ sho:しょ she:しぇ shi:し sya:しゃ syu:しゅ syo:しょ " +
  "cha:ちゃ chu:ちゅ cho:ちょ che:ちぇ chi:ち tya:ちゃ tyu:ちゅ tyo:ちょ tsu:つ nya:にゃ nyu:にゅ nyo:にょ hya:ひゃ hyu:ひゅ hyo:ひょ " +
  "bya:びゃ byu:びゅ byo:びょ pya:ぴゃ pyu:ぴゅ pyo:ぴょ mya:みゃ myu:みゅ myo:みょ rya:りゃ ryu:りゅ ryo:りょ " +
  "jya:じゃ jyu:じゅ jyo:じょ zya:じゃ zyu:じゅ zyo:じょ ja:じゃ ju:じゅ jo:じょ je:じぇ ji:じ " +
  "ka:か ki:き ku:く ke:け ko:こ ga:が gi:ぎ gu:ぐ ge:げ go:ご sa:さ si:し su:す se:せ so:そ za:ざ zi:じ zu:ず ze:ぜ zo:ぞ " +
  "ta:た ti:ち tu:つ te:て to:と da:だ di:ぢ du:づ de:で do:ど na:な ni:に nu:ぬ ne:ね no:の ha:は hi:ひ fu:ふ hu:ふ he:へ ho:ほ " +
  "ba:ば bi:び bu:ぶ be:べ bo:ぼ pa:ぱ pi:ぴ pu:ぷ pe:ぺ po:ぽ ma:ま mi:み mu:む me:め mo:も ya:や yu:ゆ yo:よ " +
  "ra:ら ri:り ru:る re:れ ro:ろ wa:わ wo:を a:あ i:い u:う e:え o:お"
)
  .split(" ")
  .map((pair) => pair.split(":") as [string, string]);

/** Hiragana for a query of Latin letters that reads wholly as romaji; null otherwise. */
export function romajiToHiragana(text: string): string | null {
  if (!/^[a-z-]+$/.test(text)) return null;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "-") {
      out += "ー";
      i++;
    } else if (c !== "n" && !"aiueo".includes(c) && (next === c || (c === "t" && next === "c"))) {
      out += "っ";
      i++;
    } else if (c === "n" && next === "n") {
      out += "ん";
      i += text[i + 2] !== undefined && "aiueoy".includes(text[i + 2]) ? 1 : 2;
    } else if (c === "n" && (next === undefined || !"aiueoy".includes(next))) {
      out += "ん";
      i++;
    } else {
      const hit = SYLLABLES.find(([r]) => text.startsWith(r, i));
      if (!hit) return null;
      out += hit[1];
      i += hit[0].length;
    }
  }
  return out;
}

/** One character as it is compared: full-width Latin to half-width, lower case, katakana as hiragana. */
function foldChar(c: string): string {
  const n = c.normalize("NFKC").toLowerCase();
  const code = n.charCodeAt(0);
  return n.length === 1 && code >= 0x30a1 && code <= 0x30f6 ? String.fromCharCode(code - 0x60) : n.length === 1 ? n : c;
}

/** The forms of a query a body may contain, as folded text. */
export function queryForms(query: string): string[] {
  const base = [...query.trim()].map(foldChar).join("");
  const forms = [base];
  const kana = romajiToHiragana(base);
  if (kana && !forms.includes(kana)) forms.push(kana);
  return forms.filter((f) => f.length > 0);
}

/** `body` cut into parts, those matching the query marked (for highlighting a search result). */
export function highlight(body: string, query: string): { text: string; hit: boolean }[] {
  const chars = [...body];
  const folded = chars.map(foldChar);
  const forms = queryForms(query).map((f) => [...f]);
  const hit = new Array<boolean>(chars.length).fill(false);
  for (const form of forms) {
    for (let i = 0; i + form.length <= folded.length; i++) {
      if (form.every((c, k) => folded[i + k] === c)) for (let k = 0; k < form.length; k++) hit[i + k] = true;
    }
  }
  const parts: { text: string; hit: boolean }[] = [];
  chars.forEach((c, i) => {
    const last = parts[parts.length - 1];
    if (last && last.hit === hit[i]) last.text += c;
    else parts.push({ text: c, hit: hit[i] });
  });
  return parts;
}
