using Diffuse.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.IO;

public class ModelDirectoryTests
{
    [Fact]
    public void PrepareForWriteCreatesTheFolder()
    {
        using var folder = new TempFolder();
        var dir = Path.Combine(folder.Path, "runs", "moons");
        ModelDirectory.PrepareForWrite(dir, force: false);
        Assert.True(Directory.Exists(dir));
        ModelDirectory.PrepareForWrite(dir, force: false);
    }

    [Theory]
    [InlineData(ModelDirectory.ModelFile)]
    [InlineData("other.safetensors")]
    public void PrepareForWriteRefusesAnExistingModelUnlessForced(string existing)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(existing), "{}");

        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.PrepareForWrite(folder.Path, force: false));
        Assert.Equal($"'{folder.Path}' already holds a model; pass --force to overwrite it or choose another --out", error.Message);

        ModelDirectory.PrepareForWrite(folder.Path, force: true);
        Assert.Equal("{}", File.ReadAllText(folder.File(existing)));
    }

    [Fact]
    public void PrepareForWriteAcceptsAFolderWithOtherFiles()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("notes.txt"), "hello");
        ModelDirectory.PrepareForWrite(folder.Path, force: false);
    }

    [Fact]
    public void PrepareForWriteRefusesAFile()
    {
        using var folder = new TempFolder();
        var file = folder.File("out");
        File.WriteAllText(file, "x");
        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.PrepareForWrite(file, force: true));
        Assert.Contains($"'{file}' is a file", error.Message);
    }

    [Fact]
    public void RequireModelSaysWhatIsMissing()
    {
        using var folder = new TempFolder();
        var missing = Path.Combine(folder.Path, "nope");
        Assert.Equal($"model folder '{missing}' does not exist (train one with 'diffuse train ... --out {missing}')",
            Assert.Throws<DiffuseException>(() => ModelDirectory.RequireModel(missing)).Message);
        Assert.Equal($"'{folder.Path}' is not a model folder: config.json is missing",
            Assert.Throws<DiffuseException>(() => ModelDirectory.RequireModel(folder.Path)).Message);
        Assert.Throws<DiffuseException>(() => ModelDirectory.ReadConfig(folder.Path));

        ModelDirectory.WriteConfig(folder.Path, """{"model":"mlp"}""");
        ModelDirectory.RequireModel(folder.Path);
        Assert.Equal("""{"model":"mlp"}""", ModelDirectory.ReadConfig(folder.Path));
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void WeightsRoundTripExactly()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        using var saved = Mlp(8, seed: 1);
        using var loaded = Mlp(8, seed: 2);

        ModelDirectory.SaveWeights(path, saved, new Dictionary<string, string> { ["step"] = "10" });
        ModelDirectory.LoadWeights(path, loaded);

        var expected = saved.state_dict();
        var actual = loaded.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.Equal(tensor.bytes.ToArray(), actual[name].bytes.ToArray());
        Assert.All(loaded.parameters(), p => Assert.True(p.requires_grad));
        using var file = SafeTensors.Read(path);
        Assert.Equal("10", file.Metadata["step"]);
    }

    [Fact]
    public void ADifferentHiddenSizeIsAShapeErrorAndChangesNothing()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        using var small = Mlp(8, seed: 1);
        using var large = Mlp(16, seed: 2);
        ModelDirectory.SaveWeights(path, small);
        var before = Snapshot(large);

        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.LoadWeights(path, large));

        Assert.Equal($"{path} does not match the model in config.json: '0.weight' has shape [8, 2] in the file but [16, 2] in the model (and 2 more)", error.Message);
        AssertUnchanged(before, large);
    }

    [Fact]
    public void AnExtraKeyInTheFileIsAnErrorAndChangesNothing()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        using var deeper = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2));
        using var model = Mlp(8, seed: 2);
        ModelDirectory.SaveWeights(path, deeper);
        var before = Snapshot(model);

        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.LoadWeights(path, model));

        Assert.EndsWith("does not match the model in config.json: the file has '4.bias', which the model does not (and 1 more)", error.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void AKeyMissingFromTheFileIsAnErrorAndChangesNothing()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        using var source = Mlp(8, seed: 1);
        var partial = source.state_dict().Where(kv => kv.Key != "2.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        SafeTensors.Write(path, partial);
        using var model = Mlp(8, seed: 2);
        var before = Snapshot(model);

        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.LoadWeights(path, model));

        Assert.EndsWith("config.json: '2.bias' is missing from the file", error.Message);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void ADtypeMismatchIsAnError()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        using var source = Mlp(8, seed: 1);
        ModelDirectory.SaveWeights(path, source);
        using var model = Mlp(8, seed: 2);
        model.to(ScalarType.Float64);

        var error = Assert.Throws<DiffuseException>(() => ModelDirectory.LoadWeights(path, model));

        Assert.EndsWith("config.json: '0.weight' has dtype F32 in the file but F64 in the model (and 3 more)", error.Message);
    }

    [Fact]
    public void LoadingFromADamagedFileIsAnError()
    {
        using var folder = new TempFolder();
        var path = folder.File(ModelDirectory.ModelFile);
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        using var model = Mlp(8, seed: 2);
        Assert.Throws<DiffuseException>(() => ModelDirectory.LoadWeights(path, model));
    }

    static torch.nn.Module<Tensor, Tensor> Mlp(int hidden, int seed)
    {
        torch.manual_seed(seed);
        return torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2));
    }

    static Dictionary<string, byte[]> Snapshot(torch.nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.bytes.ToArray());

    static void AssertUnchanged(Dictionary<string, byte[]> before, torch.nn.Module module)
    {
        var after = Snapshot(module);
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
    }
}
