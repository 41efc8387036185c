using Diffuse.IO;
using Xunit;

namespace Diffuse.Tests.IO;

/// <summary>Issue 20: a folder with config.json but no weights is a run that died before its first checkpoint, not a model.</summary>
public class UnfinishedRunTests
{
    [Fact]
    public void AConfigWithoutWeightsIsWrittenOverWithoutForceAndSaysSo()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(ModelDirectory.ConfigFile), "{}");
        Directory.CreateDirectory(folder.File("tensorboard"));
        var said = new List<string>();

        ModelDirectory.PrepareForWrite(folder.Path, force: false, said.Add);

        var line = Assert.Single(said);
        Assert.Contains("stopped before its first checkpoint", line);
        Assert.True(ModelDirectory.IsUnfinishedRun(folder.Path));
        Assert.False(ModelDirectory.HoldsModel(folder.Path));
    }

    [Theory]
    [InlineData(ModelDirectory.ModelFile)]
    [InlineData(ModelDirectory.EmaFile)]
    [InlineData("train_state/checkpoint.safetensors")]
    public void AnyWeightsMakeItAModel(string weights)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(ModelDirectory.ConfigFile), "{}");
        Directory.CreateDirectory(Path.GetDirectoryName(folder.File(weights))!);
        File.WriteAllText(folder.File(weights), "w");

        Assert.True(ModelDirectory.HoldsModel(folder.Path));
        Assert.Contains("already holds a model", Assert.Throws<DiffuseException>(() => ModelDirectory.PrepareForWrite(folder.Path, force: false)).Message);
    }

    [Fact]
    public void RequireModelSaysAFileIsAFile()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("x"), "");
        Assert.Equal($"'{folder.File("x")}' is a file, not a model folder", Assert.Throws<DiffuseException>(() => ModelDirectory.RequireModel(folder.File("x"))).Message);
    }
}
