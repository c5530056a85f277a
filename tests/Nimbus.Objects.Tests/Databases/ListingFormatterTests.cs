using System.Text;
using Nimbus.Objects.Common;
using Nimbus.Objects.Databases;

namespace Nimbus.Objects.Tests.Databases;

/// <summary>Expected bodies are what Swift's own code (json.dumps, listing_formats.py) writes for the same listing.</summary>
public sealed class ListingFormatterTests
{
    private static readonly SwiftTimestamp Noon = SwiftTimestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_500));

    private static readonly ListingEntry[] Objects =
    [
        new ObjectListingEntry("café & <x>", 5, "text/plain", "d41d8cd98f00b204e9800998ecf8427e", Noon),
        new SubdirEntry("photos/"),
        new ObjectListingEntry("\U0001F600\"q\"", 0, string.Empty, string.Empty, SwiftTimestamp.Zero),
    ];

    private static readonly ListingEntry[] Containers =
    [
        new ContainerListingEntry("images", 3, 1024, Noon),
        new SubdirEntry("logs/"),
    ];

    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);

    [Fact]
    public void Last_modified_has_six_decimals_in_utc_without_a_zone()
    {
        Assert.Equal("2026-11-23T12:00:00.123450", ListingFormatter.FormatLastModified(Noon));
        Assert.Equal("1970-01-01T00:00:00.000000", ListingFormatter.FormatLastModified(SwiftTimestamp.Zero));
    }

    [Fact]
    public void Container_json_matches_swift()
    {
        Assert.Equal(
            """[{"bytes": 5, "hash": "d41d8cd98f00b204e9800998ecf8427e", "name": "caf\u00e9 & <x>", "content_type": "text/plain", "last_modified": "2026-11-23T12:00:00.123450"}, {"subdir": "photos/"}, {"bytes": 0, "hash": "", "name": "\ud83d\ude00\"q\"", "content_type": "", "last_modified": "1970-01-01T00:00:00.000000"}]""",
            Text(ListingFormatter.FormatContainerListing("c", Objects, ListingFormat.Json)));
        Assert.Equal("[]", Text(ListingFormatter.FormatContainerListing("c", [], ListingFormat.Json)));
    }

    [Fact]
    public void Json_escapes_control_characters_and_everything_beyond_ascii()
    {
        var body = ListingFormatter.FormatContainerListing("c", [new SubdirEntry("\u007f\u0001\n\t\\/é")], ListingFormat.Json);

        Assert.Equal("""[{"subdir": "\u007f\u0001\n\t\\/\u00e9"}]""", Text(body));
        Assert.All(body, b => Assert.True(b < 0x80));
    }

    [Fact]
    public void Container_xml_matches_swift()
    {
        Assert.Equal(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c &quot;1&quot;&#09;&amp;\">"
            + "<object><name>café &amp; &lt;x&gt;</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>5</bytes>"
            + "<content_type>text/plain</content_type><last_modified>2026-11-23T12:00:00.123450</last_modified></object>"
            + "<subdir name=\"photos/\"><name>photos/</name></subdir>"
            + "<object><name>\U0001F600\"q\"</name><hash /><bytes>0</bytes><content_type /><last_modified>1970-01-01T00:00:00.000000</last_modified></object>"
            + "</container>",
            Text(ListingFormatter.FormatContainerListing("c \"1\"\t&", Objects, ListingFormat.Xml)));
    }

    [Fact]
    public void An_empty_container_in_xml_is_an_empty_element()
    {
        Assert.Equal(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c\" />",
            Text(ListingFormatter.FormatContainerListing("c", [], ListingFormat.Xml)));
    }

    [Fact]
    public void Plain_lists_one_name_per_line()
    {
        Assert.Equal("café & <x>\nphotos/\n\U0001F600\"q\"\n", Text(ListingFormatter.FormatContainerListing("c", Objects, ListingFormat.Plain)));
        Assert.Equal("images\nlogs/\n", Text(ListingFormatter.FormatAccountListing("AUTH_x", Containers, ListingFormat.Plain)));
        Assert.Empty(ListingFormatter.FormatAccountListing("AUTH_x", [], ListingFormat.Plain));
    }

    [Fact]
    public void Account_json_matches_swift()
    {
        Assert.Equal(
            """[{"name": "images", "count": 3, "bytes": 1024, "last_modified": "2026-11-23T12:00:00.123450"}, {"subdir": "logs/"}]""",
            Text(ListingFormatter.FormatAccountListing("AUTH_x", Containers, ListingFormat.Json)));
    }

    [Fact]
    public void Account_xml_matches_swift()
    {
        Assert.Equal(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_x\">\n"
            + "<container><name>images</name><count>3</count><bytes>1024</bytes><last_modified>2026-11-23T12:00:00.123450</last_modified></container>\n"
            + "<subdir name=\"logs/\" />\n"
            + "</account>",
            Text(ListingFormatter.FormatAccountListing("AUTH_x", Containers, ListingFormat.Xml)));
        Assert.Equal(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"AUTH_x\">\n</account>",
            Text(ListingFormatter.FormatAccountListing("AUTH_x", [], ListingFormat.Xml)));
    }

    [Fact]
    public async Task Writing_to_a_stream_gives_the_same_bytes()
    {
        using var stream = new MemoryStream();
        await ListingFormatter.WriteContainerListingAsync(stream, "c", Objects, ListingFormat.Xml, CancellationToken.None);
        Assert.Equal(ListingFormatter.FormatContainerListing("c", Objects, ListingFormat.Xml), stream.ToArray());

        stream.SetLength(0);
        await ListingFormatter.WriteAccountListingAsync(stream, "AUTH_x", Containers, ListingFormat.Json, CancellationToken.None);
        Assert.Equal(ListingFormatter.FormatAccountListing("AUTH_x", Containers, ListingFormat.Json), stream.ToArray());
    }

    [Fact]
    public void Entries_of_the_wrong_kind_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ListingFormatter.FormatContainerListing("c", Containers, ListingFormat.Json));
        Assert.Throws<ArgumentException>(() => ListingFormatter.FormatAccountListing("a", Objects, ListingFormat.Json));
    }
}
