import { describe, expect, it } from "vitest";
import { addressText, parseAddresses } from "./peerAddresses";

describe("DICOM peer addresses", () => {
  it("reads one per line, or separated by commas and spaces, each once", () => {
    expect(parseAddresses("10.1.2.3\n 10.1.3.0/24 ,10.1.2.3、192.168.5.7")).toEqual(["10.1.2.3", "10.1.3.0/24", "192.168.5.7"]);
  });

  it("finds nothing in blank text (the form then asks for one)", () => {
    expect(parseAddresses("  \n , ")).toEqual([]);
  });

  it("shows a list one per line and reads it back unchanged", () => {
    const allow = ["10.1.2.3", "fd00::/8"];
    expect(parseAddresses(addressText(allow))).toEqual(allow);
  });
});
