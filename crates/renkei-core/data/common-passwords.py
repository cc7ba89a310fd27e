#!/usr/bin/env python3
"""Writes common-passwords.txt: passwords that attackers try first.

Base words are well-known entries of public top-password lists (written out by hand), with
hospital and Japanese words added; each is combined with the suffixes people add to reach a
length rule. Trivial patterns (one repeated character, sequences, keyboard walks) are checked
in code (renkei-core/src/password_rules.rs), not listed. Run: python3 common-passwords.py
"""

BASE = """
password passw0rd p@ssword p@ssw0rd pass pass1 passwd password1 mypassword newpassword
qwerty qwertyuiop qwerty1 qwertz azerty asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx 1qaz2wsx
iloveyou letmein welcome welcome1 admin administrator root toor login master hello hello1
monkey dragon football baseball basketball soccer hockey golf tennis sunshine princess
shadow superman batman spiderman starwars pokemon naruto doraemon pikachu ninja samurai
michael jennifer jordan hunter ranger thomas robert daniel charlie george andrew joshua
jessica ashley amanda nicole michelle hannah sophie olivia emily matthew william
freedom whatever trustno1 secret secret1 access flower computer internet cookie cheese
chocolate coffee summer winter spring autumn orange banana apple lemon cherry purple
silver golden diamond killer tigger buster soccer1 harley ginger pepper maggie bailey
mustang corvette ferrari porsche yamaha honda toyota nissan suzuki mazda subaru
loveme lovely love iloveu loveyou babygirl angel angels heaven blessed jesus god
family friends friend happy smile lucky money business company office manager
changeme default guest user test tester testing temp temporary sample example demo
abc abcd abcde abcdef abc123 a1b2c3 aa bb xx zz qq ww
tokyo osaka kyoto nagoya sapporo fukuoka yokohama kobe sendai hiroshima okinawa japan nippon
sakura hanako taro ichiro tanaka sato suzuki takahashi watanabe ito yamamoto nakamura
kobayashi kato yoshida yamada sasaki yamaguchi matsumoto inoue kimura hayashi shimizu
hospital byouin kango nurse doctor sensei isha iryou clinic kanja medical health
renkei renraku karte denshi kanri system server network security
konnichiwa arigato ohayo sayonara daisuki kawaii genki ganbare
"""

SUFFIXES = [
    "", "1", "12", "123", "1234", "12345", "123456", "1234567", "123456789",
    "01", "007", "1!", "123!", "2024", "2025", "2026", "2026!",
]

PREFIXES = ["", "my"]

# Entries shorter than this are refused by the length rule anyway.
MIN_LENGTH = 8

EXTRA = """
1234567890 0987654321 12345678910 123456789a a123456789 1q2w3e4r5t 1q2w3e4r5t6y
q1w2e3r4t5 zaq12wsx !qaz2wsx 1qazxsw2 qwer1234 asdf1234 zxcv1234 1234qwer 1234abcd
abcd1234 abc12345 abcdefghij password12 password123 password1234 passwordpassword
iloveyou12 iloveyou123 letmein123 welcome123 administrator1 qwerty12345 qwertyuiop1
"""


def main():
    words = set()
    for base in BASE.split():
        for prefix in PREFIXES:
            for suffix in SUFFIXES:
                word = prefix + base + suffix
                if len(word) >= MIN_LENGTH:
                    words.add(word)
    words.update(EXTRA.split())
    with open("common-passwords.txt", "w") as out:
        out.write("# Passwords refused as too common; built by common-passwords.py. One a line.\n")
        for word in sorted(words):
            out.write(word + "\n")
    print(len(words))


if __name__ == "__main__":
    main()
