using Diffuse.Data;
using Diffuse.Tests.IO;
using SkiaSharp;
using Xunit;

namespace Diffuse.Tests.Data;

public class ImageFolderTests
{
    [Fact]
    public void SubFoldersAreClassesSortedOrdinallyAndImagesAreResizedToTheRequestedSize()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteSolid(Path.Combine(folder.Path, "cats", "a.png"), 40, 20, new SKColor(255, 0, 0));
        SyntheticImages.WriteSolid(Path.Combine(folder.Path, "cats", "b.jpg"), 16, 16, new SKColor(0, 0, 255));
        SyntheticImages.WriteSolid(Path.Combine(folder.Path, "Dogs", "c.jpeg"), 10, 30, new SKColor(0, 255, 0));
        File.WriteAllText(Path.Combine(folder.Path, "Dogs", "notes.txt"), "not an image");
        SyntheticImages.WriteSolid(Path.Combine(folder.Path, ".hidden", "x.png"), 8, 8, SKColors.White);

        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 8 });
        Assert.Equal(new[] { "Dogs", "cats" }, data.ClassNames);
        Assert.Equal(new long[] { 0, 1, 1 }, data.Labels.data<long>().ToArray());
        Assert.Equal((3L, 3, 8, 8), (data.Count, data.Channels, data.Height, data.Width));
        // Dogs/c.jpeg comes first; the red cats/a.png (scaled and centre-cropped) is pure red everywhere.
        var red = data.Pixels[1].data<byte>().ToArray();
        Assert.All(red[..64], v => Assert.Equal(255, v));
        Assert.All(red[64..], v => Assert.Equal(0, v));
        // The green JPEG is close to pure green.
        Assert.InRange((int)data.Pixels[0, 1].to(TorchSharp.torch.ScalarType.Float32).mean().item<float>(), 240, 255);
    }

    [Fact]
    public void AFlatFolderOfGrayImagesIsUnlabelledSingleChannelAtTheDefaultSize()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteSolid(folder.File("1.png"), 50, 50, new SKColor(100, 100, 100));
        SyntheticImages.WriteSolid(folder.File("2.png"), 64, 48, new SKColor(200, 200, 200));

        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions());
        Assert.False(data.IsLabelled);
        Assert.Empty(data.ClassNames);
        Assert.Equal(new long[] { -1, -1 }, data.Labels.data<long>().ToArray());
        Assert.Equal((1, ImageLoadOptions.DefaultFolderImageSize), (data.Channels, data.Height));
        Assert.All(data.Pixels[1].data<byte>().ToArray(), v => Assert.Equal(200, v));
    }

    [Fact]
    public void ColourImagesBecomeGrayWhenOneChannelIsAsked()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteSolid(folder.File("red.png"), 8, 8, new SKColor(255, 0, 0));
        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 4, Channels = 1 });
        Assert.Equal(1, data.Channels);
        Assert.All(data.Pixels.data<byte>().ToArray(), v => Assert.Equal(76, v)); // 0.299 * 255
    }

    [Fact]
    public void CorruptFilesAreSkippedWithAWarningNamingEachAndACount()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteSolid(folder.File("good.png"), 8, 8, SKColors.White);
        File.WriteAllBytes(folder.File("bad.png"), [0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
        File.WriteAllText(folder.File("bad.jpg"), "plain text");
        var warnings = new List<string>();

        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 4 }, warnings.Add);
        Assert.Equal(1, data.Count);
        Assert.Contains(warnings, w => w.Contains(folder.File("bad.png")));
        Assert.Contains(warnings, w => w.Contains(folder.File("bad.jpg")));
        Assert.Contains("skipped 2 unreadable files", warnings);
    }

    [Fact]
    public void AFolderWithoutAnyUsableImageIsAnError()
    {
        using var folder = new TempFolder();
        Assert.Contains("no readable PNG or JPEG", Assert.Throws<DiffuseException>(() => ImageDatasets.Load(folder.Path, new ImageLoadOptions())).Message);
        File.WriteAllText(folder.File("x.png"), "not a png");
        Assert.Throws<DiffuseException>(() => ImageDatasets.Load(folder.Path, new ImageLoadOptions()));
    }
}
