using Nimbus.Images.Service;
using Nimbus.Platform.Errors;

namespace Nimbus.Images.Tests.Service;

public sealed class ImageListQueryTests
{
    [Fact]
    public void Defaults_are_25_newest_first_without_hidden_images()
    {
        var query = Parse();
        Assert.Equal(25, query.Limit);
        Assert.Equal([new SortKey("created_at", true), new SortKey("id", true)], query.Sort.ToArray());
        Assert.False(query.Matches(Image("a") with { OsHidden = true }));
        Assert.True(Parse(("os_hidden", "true")).Matches(Image("a") with { OsHidden = true }));
    }

    [Fact]
    public void Sort_takes_several_keys_with_directions() =>
        Assert.Equal([new SortKey("name", false), new SortKey("size", true)], Parse(("sort", "name:asc,size:desc")).Sort.ToArray());

    [Fact]
    public void Legacy_sort_key_and_dir_pair_up() =>
        Assert.Equal(
            [new SortKey("name", false), new SortKey("size", true)],
            Parse(("sort_key", "name"), ("sort_key", "size"), ("sort_dir", "asc"), ("sort_dir", "desc")).Sort.ToArray());

    [Fact]
    public void One_legacy_sort_dir_applies_to_every_key() =>
        Assert.Equal([new SortKey("name", false), new SortKey("status", false)], Parse(("sort_key", "name"), ("sort_key", "status"), ("sort_dir", "asc")).Sort.ToArray());

    [Theory]
    [InlineData("sort", "flavor:asc", "Invalid sort key: flavor.")]
    [InlineData("sort", "name:sideways", "Invalid sort direction: sideways")]
    [InlineData("sort_key", "bogus", "Invalid sort key: bogus.")]
    [InlineData("limit", "ten", "limit param must be an integer")]
    [InlineData("limit", "-1", "limit param must be positive")]
    [InlineData("visibility", "everyone", "Invalid visibility value: everyone")]
    [InlineData("member_status", "maybe", "Invalid status value: maybe")]
    [InlineData("protected", "perhaps", "Invalid value 'perhaps'")]
    [InlineData("size_min", "big", "Invalid value for size_min")]
    public void Bad_parameters_are_400(string key, string value, string message)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse((key, value)));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sort_and_legacy_sort_keys_cannot_be_mixed() =>
        Assert.Throws<InvalidInputException>(() => Parse(("sort", "name"), ("sort_key", "size")));

    [Fact]
    public void A_limit_above_the_maximum_is_capped() =>
        Assert.Equal(1000, Parse(("limit", "5000")).Limit);

    [Fact]
    public void In_operator_matches_any_of_the_listed_values()
    {
        var query = Parse(("name", "in:alpha,\"beta\""));
        Assert.True(query.Matches(Image("alpha")));
        Assert.True(query.Matches(Image("beta")));
        Assert.False(query.Matches(Image("gamma")));
    }

    [Fact]
    public void Size_bounds_and_comparison_operators_filter()
    {
        var small = Image("s") with { Size = 10 };
        var large = Image("l") with { Size = 1000 };
        var unknown = Image("u");
        var query = Parse(("size_min", "100"));
        Assert.False(query.Matches(small));
        Assert.True(query.Matches(large));
        Assert.False(query.Matches(unknown));
        Assert.True(Parse(("size_max", "10")).Matches(small));
        Assert.True(Parse(("created_at", "gte:1970-01-01T00:00:00Z")).Matches(small));
        Assert.False(Parse(("created_at", "lt:1970-01-01T00:00:00Z")).Matches(small));
        Assert.True(Parse(("min_ram", "gt:0")).Matches(small with { MinRam = 1 }));
    }

    [Fact]
    public void Tags_must_all_be_present_and_unknown_keys_filter_properties()
    {
        var image = Image("t") with
        {
            Tags = ["one", "two"],
            Properties = System.Collections.Immutable.ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("os_distro", "debian"),
        };
        Assert.True(Parse(("tag", "one"), ("tag", "two")).Matches(image));
        Assert.False(Parse(("tag", "one"), ("tag", "three")).Matches(image));
        Assert.True(Parse(("os_distro", "debian")).Matches(image));
        Assert.False(Parse(("os_distro", "ubuntu")).Matches(image));
    }

    [Fact]
    public void Ties_are_broken_by_id_and_missing_values_sort_first()
    {
        var query = Parse(("sort", "size:asc"));
        var none = Image("n") with { Id = "1" };
        var a = Image("a") with { Id = "2", Size = 5 };
        var b = Image("b") with { Id = "3", Size = 5 };
        var list = new List<Image> { b, a, none };
        list.Sort(query.Compare);
        Assert.Equal(["1", "2", "3"], list.Select(i => i.Id));
    }

    private static ImageListQuery Parse(params (string Key, string Value)[] parameters) =>
        ImageListQuery.Parse(parameters.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)));

    private static Image Image(string name) => new()
    {
        Id = name,
        Name = name,
        Status = ImageStatus.Active,
        Visibility = ImageVisibility.Public,
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };
}
