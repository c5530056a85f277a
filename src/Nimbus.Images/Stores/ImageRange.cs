namespace Nimbus.Images.Stores;

/// <summary>Argument checks every store shares.</summary>
internal static class ImageRange
{
    public static void Validate(long offset, long? length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
    }

    /// <summary>Image ids become file and object names, so only a safe alphabet is allowed (UUIDs fit).</summary>
    public static void ValidateId(string imageId)
    {
        ArgumentException.ThrowIfNullOrEmpty(imageId);
        if (imageId.Length > 128 || imageId[0] == '.' || !imageId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"image id '{imageId}' is not usable as a stored name", nameof(imageId));
        }
    }
}
