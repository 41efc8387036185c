using System.CommandLine;
using Diffuse.Data;

namespace Diffuse.Cli;

/// <summary>How image data are read: <c>--image-size</c>, <c>--channels</c>, <c>--max-images</c>, <c>--data-dir</c> and <c>--cache-dir</c>.</summary>
public sealed class DataOptions
{
    public Option<int?> ImageSize { get; } = Opt.OptionalInt("--image-size", "resize images to N x N (default: the data's; 32 for folders)", 4, 1024);
    public Option<int?> Channels { get; } = Opt.Parsed<int?>("--channels", "1 (grayscale) or 3 (RGB) (default: the data's)",
        text => text is "1" or "3" ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : throw new UsageException($"--channels must be 1 or 3, got {text}"), helpName: "1|3");
    public Option<int?> MaxImages { get; } = Opt.OptionalInt("--max-images", "use at most N images (quick runs)", 2);
    public Option<string?> DataDir { get; } = Common.DataDir();
    public Option<string?> CacheDir { get; } = Common.CacheDir("where datasets are downloaded and converted (default ~/.cache/diffuse)");

    public Option[] All => [ImageSize, Channels, MaxImages, DataDir, CacheDir];

    public void AddTo(Command command) => command.AddOptions(All);

    public ImageLoadOptions Read(System.CommandLine.Parsing.SymbolResult r) => new()
    {
        ImageSize = r.GetValue(ImageSize), Channels = r.GetValue(Channels), MaxImages = r.GetValue(MaxImages), DataDir = r.GetValue(DataDir), CacheDir = r.GetValue(CacheDir),
    };
}
