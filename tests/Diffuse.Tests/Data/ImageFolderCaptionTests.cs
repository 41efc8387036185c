using Diffuse.Data;
using Diffuse.Tests.IO;
using SkiaSharp;
using Xunit;

namespace Diffuse.Tests.Data;

/// <summary>A captions.tsv beside an image folder: per-image captions that follow the images through every selection.</summary>
public class ImageFolderCaptionTests
{
    static void WriteGray(string path, byte value) => SyntheticImages.WriteSolid(path, 8, 8, new SKColor(value, value, value));

    [Fact]
    public void EachImageGetsItsLinesInFileOrderAndImagesWithoutALineGetNoneWithAWarning()
    {
        using var folder = new TempFolder();
        WriteGray(Path.Combine(folder.Path, "cats", "a.png"), 10);
        WriteGray(Path.Combine(folder.Path, "cats", "b.png"), 20);
        WriteGray(Path.Combine(folder.Path, "dogs", "deep", "c.png"), 30);
        File.WriteAllLines(folder.File(ImageDatasets.CaptionsFile),
        [
            "# path<TAB>caption", "", "cats/a.png\ta dark cat", "dogs\\deep\\c.png\ta dog in the dark ", "./cats/a.png\tanother cat", "cats/a.png\t",
        ]);
        var warnings = new List<string>();
        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 4 }, warnings.Add);
        Assert.True(data.IsCaptioned);
        Assert.Equal(["cats", "dogs"], data.ClassNames);
        Assert.Equal(["a dark cat", "another cat", ""], data.Captions![0]);
        Assert.Empty(data.Captions[1]);
        Assert.Equal(["a dog in the dark"], data.Captions[2]);
        Assert.Contains(warnings, w => w.Contains("1 of 3 images have no line") && w.Contains("empty caption"));
    }

    [Fact]
    public void CaptionsFollowTheImagesThroughSkippedFilesMaxImagesResizingAndSplits()
    {
        using var folder = new TempFolder();
        var lines = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            WriteGray(folder.File($"{i:D2}.png"), (byte)(20 * i));
            lines.Add($"{i:D2}.png\tgray level {i}");
        }
        File.WriteAllText(folder.File("broken.png"), "not a png");
        lines.Add("broken.png\ta broken file");
        File.WriteAllLines(folder.File(ImageDatasets.CaptionsFile), lines);

        using var all = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 4, Channels = 1 });
        Assert.Equal(10, all.Count);
        for (int i = 0; i < 10; i++)
            Assert.Equal($"gray level {(all.Pixels[i, 0, 0, 0].item<byte>() + 10) / 20}", Assert.Single(all.Captions![i]));

        using var few = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 3, MaxImages = 4 });
        Assert.Equal(few.Count, few.Captions!.Count);
        using var split = all.Split(0.3, 7);
        foreach (var part in new[] { split.Train, split.Validation, all.RandomSubset(5, 3) })
            for (int i = 0; i < part.Count; i++)
                Assert.Equal($"gray level {(part.Pixels[i, 0, 0, 0].item<byte>() + 10) / 20}", Assert.Single(part.Captions![i]));
    }

    [Fact]
    public void AFolderWithoutACaptionsFileHasNoCaptions()
    {
        using var folder = new TempFolder();
        WriteGray(folder.File("a.png"), 0);
        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions());
        Assert.False(data.IsCaptioned);
        Assert.Null(data.Captions);
    }

    [Theory]
    [InlineData("a.png has no tab", ":2: expected 'path<TAB>caption'")]
    [InlineData("b.png\ta missing file", ":2: 'b.png' is not an image of")]
    [InlineData("../a.png\toutside", ":2: '../a.png' is not an image of")]
    public void ABadLineIsAnErrorNamingTheFileAndLine(string line, string expected)
    {
        using var folder = new TempFolder();
        WriteGray(folder.File("a.png"), 0);
        File.WriteAllLines(folder.File(ImageDatasets.CaptionsFile), ["a.png\tfine", line]);
        var error = Assert.Throws<DiffuseException>(() => ImageDatasets.Load(folder.Path, new ImageLoadOptions()));
        Assert.Contains(ImageDatasets.CaptionsFile + expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
